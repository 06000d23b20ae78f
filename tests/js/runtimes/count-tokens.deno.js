// Deno: counts tokens of the texts in argv[1] (JSON) with the tokenizer.json at argv[0], using
// the package's lazily loaded tokenizer module; prints the counts as JSON.
import { Tokenizer } from "../../../pkg/tokenizer.js";

const [tokenizerPath, textsJson] = Deno.args;
const tokenizer = await Tokenizer.fromBytes(await Deno.readFile(tokenizerPath), "llama3");
console.log(JSON.stringify(JSON.parse(textsJson).map((t) => tokenizer.countTokens(t))));
