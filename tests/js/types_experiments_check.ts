// Compiled with `tsc --noEmit` by the test suite: the experiments' declarations type a realistic use.
import { OpenAIEndpoint, LoadTest, LoadTestResult, LatencyHeatmap, LatencyHeatmapResult, runFigures } from "../../pkg/index.js";

async function typedExperiments(): Promise<number> {
  const endpoint = new OpenAIEndpoint({ baseUrl: "http://127.0.0.1:8000/v1", model: "m" });
  const lt = new LoadTest({ endpoint, payload: endpoint.createPayload("hi", 8), sequenceOfClients: [1, 2], minRequestsPerRun: 4, onProgress: (p) => console.log(p.level, p.run.completed) });
  const result: LoadTestResult = await lt.run();
  const files: Record<string, string> = result.toFiles();
  const back = await LoadTestResult.fromFiles(files, { testName: "x" });
  const figs = await back.figures();
  const html: string = await back.toHTML();
  const hm = new LatencyHeatmap({ endpoint, sourceText: "a b c", inputLengths: [1], outputLengths: [4], createPayload: (p, m, extra) => ({ prompt: p, max_tokens: m, ...extra }) });
  const hr: LatencyHeatmapResult = await hm.run();
  const n: number = hr.cells()[0][0].length + hr.plan.prompts[0].tokens;
  const rf = await runFigures(result.results.get(1)!);
  // @ts-expect-error sequenceOfClients must be numbers
  new LoadTest({ endpoint, payload: {}, sequenceOfClients: ["1"] });
  return n + figs.time_to_first_token.data.length + html.length + Object.keys(rf).length;
}
void typedExperiments;
