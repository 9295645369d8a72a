// Command etcd is the etcd server, built from the go.etcd.io/etcd/server/v3
// release pinned in ../../go.mod. It is the same one-line wrapper upstream
// ships as go.etcd.io/etcd/server/v3/main.go; hack/control-plane.sh builds it
// into the control-plane binary cache.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
