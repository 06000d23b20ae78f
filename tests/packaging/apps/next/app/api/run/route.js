// A route handler (Node.js runtime): the engine measures from the server. `init()` reads the
// .wasm the bundler emitted with the server chunks; the tokenizer's wasm loads the same way.
import { init } from "llmeter-wasm";
import { measure, TOKENIZER_JSON } from "../../measure.js";

export const dynamic = "force-dynamic";

export async function GET(request) {
  try {
    await init();
    const { json } = await measure(new URL(request.url).searchParams.get("baseUrl"));
    const { Tokenizer } = await import("llmeter-wasm/tokenizer.js");
    const tokenizer = await Tokenizer.fromJSON(TOKENIZER_JSON, "tiny");
    return Response.json({ ...json, tokens: tokenizer.countTokens("hello world hello") });
  } catch (e) {
    return Response.json({ error: `${e.name}: ${e.message}`, stack: e.stack }, { status: 500 });
  }
}
