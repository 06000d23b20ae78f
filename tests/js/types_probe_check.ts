// Compiled with `tsc --noEmit` by the test suite: a web app's Probe and its service worker type
// a realistic use (and reject a few mistakes).
import { Probe, type ProbeOutcome } from "../../pkg/probe.js";
import { serveProbes } from "../../pkg/probe-sw.js";

async function typedProbe(): Promise<string> {
  const probe = new Probe({
    testId: "prod-latency", label: "eu-west", sampleRate: 0.01, requestsPerView: 1, requestsPerDay: 3,
    endpoint: { kind: "openai", baseUrl: "https://llm.example.com/v1", model: "m" },
    payload: { messages: [{ role: "user", content: "ping" }], max_tokens: 8 },
    beaconUrl: "https://collector.example.com/probe", serviceWorker: true,
  });
  const outcome: ProbeOutcome = await probe.start();
  const where: "service worker" | "worker" | "page" | undefined = outcome.measuredIn;
  // @ts-expect-error serviceWorker is a boolean
  new Probe({ testId: "t", endpoint: { kind: "openai" }, payload: {}, beaconUrl: "/b", serviceWorker: "yes" });
  return `${outcome.reason} ${where ?? ""}`;
}

serveProbes();
serveProbes(globalThis);
void typedProbe;
