# shellcheck shell=bash
# Container images without a registry: one-layer OCI archives built from files on this machine,
# for `ctr images import`. Sourced by hack/real-node.sh, not run.
#
#   pause    build/pause/linux/pause.c from the k8s.io/kubernetes module the kubelet is built
#            from, `gcc -Os -static`: every pod's sandbox (containerd's sandbox_image)
#   busybox  Debian's busybox-static with a link per applet in /bin, CMD sh: a shell, nc,
#            nslookup and wget for test pods
#
# Their names are under localhost/, so that a pull, should anything ask for one, goes nowhere
# but this machine. The archives are cached, keyed on the versions they are built from.

# oci_archive REF ROOTFS CONFIG_JSON OUT: a one-layer OCI image layout archive of ROOTFS whose
# image config is CONFIG_JSON (the "config" object: Entrypoint, Cmd, Env, User), named REF.
oci_archive() {
  local ref=$1 rootfs=$2 cfg=$3 out=$4 t tarflags
  t=$(mktemp -d)
  tarflags=(--sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner)
  mkdir -p "$t/blobs/sha256"
  tar "${tarflags[@]}" -C "$rootfs" -cf "$t/layer" .
  local layer layer_size cfg_digest cfg_size man_digest man_size
  layer=$(sha256sum "$t/layer" | cut -d' ' -f1)
  layer_size=$(stat -c %s "$t/layer")
  mv "$t/layer" "$t/blobs/sha256/$layer"
  printf '{"architecture":"amd64","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$cfg" "$layer" >"$t/config"
  cfg_digest=$(sha256sum "$t/config" | cut -d' ' -f1)
  cfg_size=$(stat -c %s "$t/config")
  mv "$t/config" "$t/blobs/sha256/$cfg_digest"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$cfg_digest" "$cfg_size" "$layer" "$layer_size" >"$t/manifest"
  man_digest=$(sha256sum "$t/manifest" | cut -d' ' -f1)
  man_size=$(stat -c %s "$t/manifest")
  mv "$t/manifest" "$t/blobs/sha256/$man_digest"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$man_digest" "$man_size" "$ref" "${ref##*:}" >"$t/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$t/oci-layout"
  tar "${tarflags[@]}" -C "$t" -cf "$out.tmp" oci-layout index.json blobs
  mv "$out.tmp" "$out"
  rm -rf "$t"
}

# pause_archive CACHE K8S_MODULE_DIR VERSION: prints the path of the pause archive, built if missing.
pause_archive() {
  local cache=$1 src=$2/build/pause/linux/pause.c version=$3 out root
  out=$cache/pause-$version.tar
  if [[ ! -s $out ]]; then
    [[ -f $src ]] || { echo "real-node: $src not found (go mod download k8s.io/kubernetes)" >&2; return 1; }
    command -v gcc >/dev/null || { echo "real-node: gcc is needed to build the pause image" >&2; return 1; }
    mkdir -p "$cache"
    root=$(mktemp -d)
    gcc -Os -Wall -Werror -static -DVERSION="v$version-smtp-reach" -o "$root/pause" "$src"
    strip "$root/pause" 2>/dev/null || true
    oci_archive "$PAUSE_REPO:$version" "$root" '{"Entrypoint":["/pause"],"User":"65535:65535"}' "$out"
    rm -rf "$root"
  fi
  printf '%s\n' "$out"
}

# busybox_archive CACHE: prints the path of the busybox archive, built if missing.
busybox_archive() {
  local cache=$1 bb=/bin/busybox deb version out root a
  deb=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || true)
  [[ -n $deb && -x $bb ]] || { echo "real-node: busybox-static is not installed (apt-get install busybox-static)" >&2; return 1; }
  version=${deb#*:}
  version=${version%%-*}
  out=$cache/busybox-$version.tar
  if [[ ! -s $out ]]; then
    mkdir -p "$cache"
    root=$(mktemp -d)
    mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root"
    chmod 1777 "$root/tmp"
    cp "$bb" "$root/bin/busybox"
    for a in $("$bb" --list); do
      [[ $a == busybox ]] || ln -s busybox "$root/bin/$a"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    oci_archive "$BUSYBOX_REPO:$version" "$root" '{"Env":["PATH=/bin"],"Cmd":["sh"]}' "$out"
    rm -rf "$root"
  fi
  printf '%s\n' "$out"
}
