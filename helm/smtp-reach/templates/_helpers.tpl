{{- define "smtp-reach.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "smtp-reach.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "smtp-reach.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "smtp-reach.serviceAccountName" -}}
{{- default (include "smtp-reach.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "smtp-reach.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The names of a list of imagePullSecrets ({name: ...}), comma-separated. */}}
{{- define "smtp-reach.pullSecretNames" -}}
{{- $names := list -}}
{{- range . -}}
{{- $names = append $names .name -}}
{{- end -}}
{{- join "," $names -}}
{{- end -}}

{{/*
The rules on SmtpEndpoints, probe pods and Events: the ones the build generates. The reconciler
reads endpoints and server-side applies their status; it never creates, updates or deletes them,
and has no finalizer.
*/}}
{{- define "smtp-reach.namespacedRules" -}}
- apiGroups: ["smtpreach.io"]
  resources: ["smtpendpoints"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["smtpreach.io"]
  resources: ["smtpendpoints/status"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch", "create", "delete"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end -}}
