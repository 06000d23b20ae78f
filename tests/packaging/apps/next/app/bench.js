"use client";
// A client component: the engine runs in the browser once the page has loaded.
import { useEffect, useState } from "react";
import { init } from "llmeter-wasm";
import { measure } from "./measure.js";

export default function Bench() {
  const [status, setStatus] = useState("measuring…");
  useEffect(() => {
    (async () => {
      await init();
      const { json } = await measure(new URLSearchParams(location.search).get("baseUrl"));
      window.__result = { page: json };
      setStatus(`${json.responses.length} responses`);
    })().catch((e) => {
      window.__result = { error: `${e.name}: ${e.message}` };
      setStatus(String(e));
    });
  }, []);
  return <p>{status}</p>;
}
