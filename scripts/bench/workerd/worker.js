// workerd side of the bench: POST a loop spec as JSON, get the loop's samples back.
// The wasm is imported as a module and instantiated synchronously (workerd cannot fetch it).
import wasm from "./pkg/llmeter_wasm_bg.wasm";
import { initSync } from "./pkg/index.js";
import { runLoop } from "./scripts/bench/pages/loops.js";

initSync(wasm);

export default {
  async fetch(request) {
    try {
      const spec = await request.json();
      return Response.json(await runLoop(spec));
    } catch (e) {
      return new Response(String(e?.stack ?? e), { status: 500 });
    }
  },
};
