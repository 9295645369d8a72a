{{/* The chart's name, or nameOverride. */}}
{{- define "smtp-reach.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The name of the release's objects: fullnameOverride, or the release's name with the chart's. */}}
{{- define "smtp-reach.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "smtp-reach.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "smtp-reach.labels" -}}
app.kubernetes.io/name: {{ include "smtp-reach.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- /* Constant whatever the names: the ServiceMonitor's job label, which the alerts look for. */}}
app.kubernetes.io/part-of: smtp-reach
{{- end -}}

{{- define "smtp-reach.selectorLabels" -}}
app.kubernetes.io/name: {{ include "smtp-reach.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "smtp-reach.serviceAccountName" -}}
{{- default (include "smtp-reach.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* repository@digest when a digest is given (it wins over the tag), else repository:tag. */}}
{{- define "smtp-reach.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
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
