{{/* Names and labels shared by every object of the chart. */}}
{{- define "tinyv.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tinyv.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "tinyv.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{- define "tinyv.judgeSelector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: judge
{{- end -}}

{{/* The Secret holding the bearer token. */}}
{{- define "tinyv.authSecret" -}}
{{- default (printf "%s-auth" (include "tinyv.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}

{{/* Rule worker threads: values.workers, else the CPU request rounded up (Node sees the node's cores, not the pod's). */}}
{{- define "tinyv.workers" -}}
{{- if .Values.workers -}}
{{- .Values.workers -}}
{{- else -}}
{{- $cpu := (.Values.resources.requests | default dict).cpu | default "" | toString -}}
{{- if regexMatch "^[0-9]+$" $cpu -}}
{{- $cpu -}}
{{- else if regexMatch "^[0-9]+m$" $cpu -}}
{{- max 1 (div (add (trimSuffix "m" $cpu | int) 999) 1000) -}}
{{- end -}}
{{- end -}}
{{- end -}}
