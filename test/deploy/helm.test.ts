import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envName, settings } from "../../src/config/schema.js";

/**
 * The Helm chart (deploy/helm/tinyv): `helm lint` and `helm template` over
 * several value sets (helm built from the Go module proxy by
 * scripts/deps/helm.sh), every rendered object validated against Kubernetes'
 * own schemas by kubernetes-validate (PyPI; it ships them), and what the
 * objects say checked against what the server needs.
 */
const root = new URL("../../", import.meta.url).pathname;
const chart = join(root, "deploy/helm/tinyv");
const tool = (script: string) =>
  execFileSync("bash", [join(root, "scripts/deps", script)], { encoding: "utf8" })
    .trim()
    .split("\n")
    .at(-1) ?? "";

// biome-ignore lint/suspicious/noExplicitAny: rendered Kubernetes objects are free-form JSON
type K8s = any;

let helm = "";
let pytools = "";
let tmp = "";

const VALUE_SETS: Record<string, string[]> = {
  defaults: [],
  everything: [
    "auth.enabled=true",
    "auth.token=s3cret",
    "tls.enabled=true",
    "tls.secretName=tinyv-tls",
    "serviceMonitor.enabled=true",
    "autoscaling.enabled=true",
    "judge.enabled=true",
    "config.mode=addon",
    "extraEnv[0].name=NODE_EXTRA_CA_CERTS",
    "extraEnv[0].value=/etc/ssl/private-ca.pem",
  ],
  small: [
    "replicaCount=1",
    "podDisruptionBudget.enabled=false",
    "resources.requests.cpu=500m",
    "auth.enabled=true",
    "auth.existingSecret=my-token",
    "config.llmUrl=http://vllm.ml.svc:8000/v1",
  ],
};

function render(values: string[]): { text: string; objects: K8s[] } {
  const args = ["template", "t", chart, ...values.flatMap((v) => ["--set", v])];
  const text = execFileSync(helm, args, { encoding: "utf8" });
  const json = execFileSync(
    `${pytools}/python`,
    ["-c", "import sys, json, yaml; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d]))"],
    { input: text, encoding: "utf8" },
  );
  return { text, objects: JSON.parse(json) };
}

const byKind = (objects: K8s[], kind: string) => objects.filter((o) => o.kind === kind);
const env = (deployment: K8s): Record<string, K8s> =>
  Object.fromEntries(deployment.spec.template.spec.containers[0].env.map((e: K8s) => [e.name, e]));
const server = (objects: K8s[]) =>
  byKind(objects, "Deployment").find((d) => d.metadata.labels["app.kubernetes.io/component"] === "server");

function validate(file: string) {
  return spawnSync(`${pytools}/kubernetes-validate`, ["--strict", file], { encoding: "utf8" });
}

beforeAll(() => {
  helm = tool("helm.sh");
  pytools = tool("pytools.sh");
  tmp = mkdtempSync(join(tmpdir(), "tinyv-helm-"));
}, 900_000);
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("Helm chart deploy/helm/tinyv", () => {
  for (const [name, values] of Object.entries(VALUE_SETS)) {
    it(`${name}: passes helm lint --strict and kubernetes-validate --strict`, () => {
      const lint = spawnSync(helm, ["lint", "--strict", chart, ...values.flatMap((v) => ["--set", v])], {
        encoding: "utf8",
      });
      expect(lint.status, lint.stdout + lint.stderr).toBe(0);
      const { text, objects } = render(values);
      const file = join(tmp, `${name}.yaml`);
      writeFileSync(file, text);
      const checked = validate(file);
      expect(checked.status, checked.stdout + checked.stderr).toBe(0);
      // Every object but the Prometheus Operator's CRD was checked against a schema.
      const crds = byKind(objects, "ServiceMonitor").length;
      expect((checked.stdout + checked.stderr).match(/ passed for resource /g)?.length).toBe(
        objects.length - crds,
      );
    });
  }

  it("the validator rejects what Kubernetes would (so the checks above can fail)", () => {
    const { objects } = render([]);
    const deployment = server(objects);
    deployment.spec.template.spec.containers[0].ports[0].containerPort = "fifty";
    deployment.spec.replica = 3; // misspelt field: --strict rejects unknown fields
    const file = join(tmp, "broken.json");
    writeFileSync(file, JSON.stringify(deployment));
    const checked = validate(file);
    expect(checked.status).not.toBe(0);
  });

  it("gRPC goes to a headless Service, HTTP to a ClusterIP one, both onto the server pods", () => {
    const { objects } = render([]);
    const services = byKind(objects, "Service");
    const grpc = services.find((s) => s.metadata.name.endsWith("-grpc"));
    const http = services.find((s) => s.metadata.name.endsWith("-http"));
    expect(grpc.spec.clusterIP).toBe("None");
    expect(http.spec.type).toBe("ClusterIP");
    const pods = server(objects).spec.template.metadata.labels;
    for (const s of [grpc, http]) {
      for (const [k, v] of Object.entries(s.spec.selector)) expect(pods[k]).toBe(v);
    }
  });

  it("settings become TINYV_* variables the server knows, with readiness and liveness on gRPC health", () => {
    const known = new Set(Object.keys(settings).map(envName));
    for (const values of Object.values(VALUE_SETS)) {
      const deployment = server(render(values).objects);
      for (const name of Object.keys(env(deployment)).filter((n) => n.startsWith("TINYV_"))) {
        expect(known, `${name} is a setting of src/config/schema.ts`).toContain(name);
      }
    }
    const d = server(render([]).objects);
    const vars = env(d);
    expect(vars.TINYV_MAX_CONNECTION_AGE_MS.value).toBe("300000");
    expect(vars.TINYV_WORKERS.value).toBe("2"); // from the CPU request
    const c = d.spec.template.spec.containers[0];
    expect(c.readinessProbe.grpc.port).toBe(50051);
    expect(c.livenessProbe.grpc.port).toBe(50051);
    // SIGTERM's drain fits in the pod's grace period.
    expect(d.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
      Number(vars.TINYV_SHUTDOWN_GRACE_MS.value),
    );
    expect(d.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
  });

  it("takes the token and TLS from Secrets, probes by the image's script under TLS, and wires the judge", () => {
    const { objects } = render(VALUE_SETS.everything ?? []);
    const d = server(objects);
    const vars = env(d);
    const secret = byKind(objects, "Secret")[0];
    expect(vars.TINYV_AUTH_TOKEN.valueFrom.secretKeyRef).toEqual({
      name: secret.metadata.name,
      key: "token",
    });
    expect(Buffer.from(secret.data.token, "base64").toString()).toBe("s3cret");
    expect(vars.TINYV_TLS_CERT.value).toBe("/etc/tinyv/tls/tls.crt");
    const volumes = d.spec.template.spec.volumes;
    expect(volumes.find((v: K8s) => v.name === "tls").secret.secretName).toBe("tinyv-tls");
    const c = d.spec.template.spec.containers[0];
    expect(c.readinessProbe.exec.command).toEqual(["node", "deploy/docker/healthcheck.mjs"]);
    expect(d.spec.replicas).toBeUndefined(); // the autoscaler owns it
    expect(byKind(objects, "HorizontalPodAutoscaler")[0].spec.scaleTargetRef.name).toBe(d.metadata.name);
    const judge = byKind(objects, "Deployment").find((x) => x.metadata.name.endsWith("-judge"));
    const vllm = judge.spec.template.spec.containers[0];
    expect(vllm.args.slice(0, 2)).toEqual(["--model", "zhangchenxu/TinyV-1.5B"]);
    expect(vllm.resources.limits["nvidia.com/gpu"]).toBe(1);
    expect(vars.TINYV_LLM_URL.value).toBe("http://t-tinyv-judge:8000/v1");
    const monitor = byKind(objects, "ServiceMonitor")[0];
    const http = byKind(objects, "Service").find((s) => s.metadata.name.endsWith("-http"));
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels))
      expect(http.metadata.labels[k]).toBe(v);
    expect(monitor.spec.endpoints[0]).toMatchObject({ port: "http", path: "/metrics", scheme: "https" });
    // The server asks for the token on /metrics as on every call but health checks.
    expect(monitor.spec.endpoints[0].authorization.credentials).toEqual({
      name: secret.metadata.name,
      key: "token",
    });
  });

  it("an existing token Secret makes no Secret; a milli-CPU request gives one worker; no PDB when off", () => {
    const { objects } = render(VALUE_SETS.small ?? []);
    expect(byKind(objects, "Secret")).toEqual([]);
    expect(byKind(objects, "PodDisruptionBudget")).toEqual([]);
    const vars = env(server(objects));
    expect(vars.TINYV_AUTH_TOKEN.valueFrom.secretKeyRef.name).toBe("my-token");
    expect(vars.TINYV_WORKERS.value).toBe("1");
    expect(vars.TINYV_LLM_URL.value).toBe("http://vllm.ml.svc:8000/v1");
  });

  it("refuses auth without a token and TLS without a Secret, saying which value is missing", () => {
    for (const [values, message] of [
      [["auth.enabled=true"], /auth.token/],
      [["tls.enabled=true"], /tls.secretName/],
    ] as const) {
      const out = spawnSync(helm, ["template", "t", chart, ...values.flatMap((v) => ["--set", v])], {
        encoding: "utf8",
      });
      expect(out.status).not.toBe(0);
      expect(out.stderr).toMatch(message);
    }
  });
});
