// A Probe's collector for tests: receives beacons (text/plain POSTs of compact shards, CORS open)
// on loopback, and reads them back by test id. Used by tests/js/probe.browser.test.js and
// tests/packaging/probe.test.js.
import { createServer } from "node:http";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A compact shard: the run folder's files in one JSON document (`{format, files}`). */
export function compact(body) {
  const { format, files } = JSON.parse(body);
  return {
    format,
    shard: JSON.parse(files["shard.json"]),
    responses: files["responses.jsonl"].split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l)),
  };
}

/**
 * @returns {Promise<{ url: string, ofTest: (testId: string) => { type: string, body: string }[],
 *   of: (testId: string, n?: number, ms?: number) => Promise<{ type: string, body: string }[]>, close: () => Promise<void> }>}
 */
export async function startCollector() {
  /** Beacons received, in order. */
  const beacons = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      if (req.method === "POST") beacons.push({ type: req.headers["content-type"], body });
      res.writeHead(204, { "access-control-allow-origin": "*" }).end();
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const ofTest = (testId) => beacons.filter((b) => compact(b.body).shard.test_id === testId);
  return {
    url: `http://127.0.0.1:${server.address().port}/probe`,
    /** The beacons of one test id received so far. */
    ofTest,
    /** The beacons of one test id, once `n` have arrived (or what arrived within `ms`). */
    async of(testId, n = 1, ms = 10_000) {
      for (const end = Date.now() + ms; ofTest(testId).length < n && Date.now() < end;) await sleep(50);
      return ofTest(testId);
    },
    close: () => new Promise((r) => server.close(r)),
  };
}
