// @ts-check
import { Endpoint, optionsObject } from "./endpoint.js";
import { awsOptions } from "./bedrock.js";

/**
 * @typedef {import("./bedrock.js").AwsOptions & {
 *   endpointName: string,
 *   model?: string,
 *   stream?: boolean,
 *   generatedTextPath?: string,
 *   inputTextPath?: string,
 *   tokenCountPath?: string,
 *   ttftVisibleTokensOnly?: boolean,
 * }} SageMakerEndpointOptions
 * `endpointName`: the SageMaker endpoint. `model`: recorded as `model_id` (default the endpoint
 * name). `stream` (default true): InvokeEndpointWithResponseStream (TGI `data:` lines or LMI JSON
 * lines), else InvokeEndpoint. Paths as LLMeter's `*_jmespath` options (defaults
 * `generated_text`, `inputs`, `details.generated_tokens`; `""` switches the token path off).
 * `ttftVisibleTokensOnly` (default true), as every family takes it: TGI and LMI lines carry no
 * hidden reasoning, so it changes nothing today.
 */

/**
 * Amazon SageMaker InvokeEndpoint / InvokeEndpointWithResponseStream (`POST
 * /endpoints/{name}/invocations[-response-stream]`, SigV4 service `sagemaker`), as LLMeter's
 * `SageMakerEndpoint` / `SageMakerStreamEndpoint` — with LLMeter's non-streaming TTLT and id
 * bugs fixed (docs/AWS.md). Runs in the AWS engine: `await initAws()` from
 * `llmeter-wasm/aws.js` first.
 */
export class SageMakerEndpoint extends Endpoint {
  /** @readonly @type {"sagemaker"} */
  kind = "sagemaker";

  /** @param {SageMakerEndpointOptions} options */
  constructor(options) {
    const { settings, secrets } = awsOptions(optionsObject(options, "SageMakerEndpoint"));
    super("sagemaker", settings, secrets, "aws");
    /** @readonly @type {string} */ this.endpointName = settings.endpointName;
    /** @readonly @type {string} */ this.region = settings.region;
  }
}
