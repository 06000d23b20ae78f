//! LLMeter's `CostModel` (reference §11.2): request dimensions priced per response
//! (`InputTokens`, `OutputTokens`), run dimensions priced per run (`EndpointTime`, SageMaker
//! instance compute and storage with given prices), LLMeter's exact `cost_*` keys.
//!
//! * Per response (`after_invoke`): `annotations["cost_<dim>"]` for each request dimension and
//!   `annotations["cost_total"]` (null when a dimension is null, as LLMeter).
//! * Per run (`after_run`): the costs read back from the annotations, summarised into
//!   `cost_<dim>_per_request-{average,p50,p90,p99}`, `cost_per_request-*`, then `cost_<run dim>`,
//!   `cost_<request dim>` (sums) and `cost_total`, in LLMeter's order and arithmetic.
//!
//! Difference from LLMeter, on purpose: a failed request has no token counts, hence null costs.
//! LLMeter then loses every cost key (its sum raises); here null costs are left out of sums and
//! statistics, so a run with failures still gets its costs. A null run dimension (no
//! `total_test_time`: an interrupted run) leaves out its own key and `cost_total`.

use super::{Callback, HookFuture};
use crate::response::InvocationResponse;
use crate::result::RunResult;
use crate::runner::{range_err, type_err, OptionError};
use crate::stats::{float_value, summary_stats, Samples, DEFAULT_PERCENTILES};
use serde_json::{json, Map, Number, Value};

const PREFIX: &str = "cost_";

/// A price or count as given (kept as a JSON number so `run_config.json` writes `3`, not `3.0`,
/// like Python) and as a float for the arithmetic.
#[derive(Debug, Clone, PartialEq)]
pub struct Amount(pub Number);

impl Amount {
    fn f(&self) -> f64 {
        self.0.as_f64().unwrap_or(f64::NAN)
    }
    fn value(&self) -> Value {
        Value::Number(self.0.clone())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum RequestDim {
    /// `ceil(num_tokens_input / granularity) × granularity × price_per_million / 1e6`.
    InputTokens {
        price_per_million: Amount,
        granularity: u64,
    },
    /// The same with `num_tokens_output`.
    OutputTokens {
        price_per_million: Amount,
        granularity: u64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum RunDim {
    /// `ceil(total_test_time / granularity_secs) × granularity_secs × price_per_hour / 3600`.
    EndpointTime {
        price_per_hour: Amount,
        granularity_secs: Amount,
    },
    /// `ceil(total_test_time) × instance_count × price_per_hour / 3600`.
    SageMakerRTEndpointCompute {
        instance_type: String,
        instance_count: Amount,
        price_per_hour: Amount,
        region: Option<String>,
    },
    /// `ceil(total_test_time) × gbs_provisioned × price_per_gb_hour / 3600`.
    SageMakerRTEndpointStorage {
        gbs_provisioned: Amount,
        price_per_gb_hour: Amount,
        region: Option<String>,
    },
}

impl RequestDim {
    pub fn class_name(&self) -> &'static str {
        match self {
            RequestDim::InputTokens { .. } => "InputTokens",
            RequestDim::OutputTokens { .. } => "OutputTokens",
        }
    }

    pub fn cost(&self, r: &InvocationResponse) -> Option<f64> {
        let (tokens, price, granularity) = match self {
            RequestDim::InputTokens {
                price_per_million,
                granularity,
            } => (r.num_tokens_input?, price_per_million, *granularity),
            RequestDim::OutputTokens {
                price_per_million,
                granularity,
            } => (r.num_tokens_output?, price_per_million, *granularity),
        };
        // Python: ceil(n / g) * g (ints), then billable * price / 1_000_000.
        let billable = (tokens as f64 / granularity as f64).ceil() * granularity as f64;
        Some(billable * price.f() / 1_000_000.0)
    }

    fn envelope(&self) -> Value {
        let (class, price, granularity) = match self {
            RequestDim::InputTokens {
                price_per_million,
                granularity,
            } => ("InputTokens", price_per_million, granularity),
            RequestDim::OutputTokens {
                price_per_million,
                granularity,
            } => ("OutputTokens", price_per_million, granularity),
        };
        json!({
            "__llmeter_class__": format!("llmeter.callbacks.cost.dimensions.{class}"),
            "__llmeter_state__": {"price_per_million": price.value(), "granularity": granularity},
        })
    }
}

impl RunDim {
    pub fn class_name(&self) -> &'static str {
        match self {
            RunDim::EndpointTime { .. } => "EndpointTime",
            RunDim::SageMakerRTEndpointCompute { .. } => "SageMakerRTEndpointCompute",
            RunDim::SageMakerRTEndpointStorage { .. } => "SageMakerRTEndpointStorage",
        }
    }

    pub fn cost(&self, total_test_time: Option<f64>) -> Option<f64> {
        let t = total_test_time.filter(|t| t.is_finite())?;
        Some(match self {
            RunDim::EndpointTime {
                price_per_hour,
                granularity_secs,
            } => {
                let g = granularity_secs.f();
                (t / g).ceil() * g * price_per_hour.f() / 3600.0
            }
            RunDim::SageMakerRTEndpointCompute {
                instance_count,
                price_per_hour,
                ..
            } => t.ceil() * instance_count.f() * price_per_hour.f() / 3600.0,
            RunDim::SageMakerRTEndpointStorage {
                gbs_provisioned,
                price_per_gb_hour,
                ..
            } => t.ceil() * gbs_provisioned.f() * price_per_gb_hour.f() / 3600.0,
        })
    }

    fn envelope(&self) -> Value {
        match self {
            RunDim::EndpointTime {
                price_per_hour,
                granularity_secs,
            } => json!({
                "__llmeter_class__": "llmeter.callbacks.cost.dimensions.EndpointTime",
                "__llmeter_state__": {"price_per_hour": price_per_hour.value(), "granularity_secs": granularity_secs.value()},
            }),
            RunDim::SageMakerRTEndpointCompute {
                instance_type,
                instance_count,
                price_per_hour,
                region,
            } => json!({
                "__llmeter_class__": "llmeter.callbacks.cost.providers.sagemaker.SageMakerRTEndpointCompute",
                "__llmeter_state__": {"instance_type": instance_type, "instance_count": instance_count.value(), "price_per_hour": price_per_hour.value(), "region": region},
            }),
            RunDim::SageMakerRTEndpointStorage {
                gbs_provisioned,
                price_per_gb_hour,
                region,
            } => json!({
                "__llmeter_class__": "llmeter.callbacks.cost.providers.sagemaker.SageMakerRTEndpointStorage",
                "__llmeter_state__": {"gbs_provisioned": gbs_provisioned.value(), "price_per_gb_hour": price_per_gb_hour.value(), "region": region},
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CostModel {
    pub request_dims: Vec<(String, RequestDim)>,
    pub run_dims: Vec<(String, RunDim)>,
}

fn amount(
    o: &Map<String, Value>,
    key: &str,
    option: &'static str,
    default: Option<f64>,
) -> Result<Amount, OptionError> {
    match o.get(key) {
        Some(Value::Number(n)) if n.as_f64().is_some_and(|v| v.is_finite() && v >= 0.0) => {
            Ok(Amount(n.clone()))
        }
        None | Some(Value::Null) => match default {
            Some(d) => Ok(Amount(
                Number::from_f64(d)
                    .filter(|_| d.fract() != 0.0)
                    .unwrap_or_else(|| Number::from(d as u64)),
            )),
            None => Err(type_err(option, format!("{key} is required (a number)"))),
        },
        Some(other) => Err(range_err(
            option,
            format!(
                "{key} must be a non-negative number, got {}",
                crate::json::text(other)
            ),
        )),
    }
}

fn positive_int(
    o: &Map<String, Value>,
    key: &str,
    option: &'static str,
) -> Result<u64, OptionError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(1),
        Some(Value::Number(n)) if n.as_u64().is_some_and(|g| g >= 1) => Ok(n.as_u64().unwrap_or(1)),
        Some(other) => Err(range_err(
            option,
            format!(
                "{key} must be a positive integer, got {}",
                crate::json::text(other)
            ),
        )),
    }
}

fn optional_string(
    o: &Map<String, Value>,
    key: &str,
    option: &'static str,
) -> Result<Option<String>, OptionError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(type_err(option, format!("{key} must be a string"))),
    }
}

/// Dimensions by name, in order.
type NamedDims = Vec<(String, Map<String, Value>)>;

/// `{name: dim}` or `[dim, …]` (named by class, as LLMeter) as `(name, config)` pairs.
fn named(value: Option<&Value>, option: &'static str) -> Result<NamedDims, OptionError> {
    let kind_of = |v: &Value| -> Result<Map<String, Value>, OptionError> {
        match v {
            Value::Object(o) if o.get("kind").and_then(Value::as_str).is_some() => Ok(o.clone()),
            _ => Err(type_err(
                option,
                "each dimension must be an object with a kind (e.g. new InputTokens(3))",
            )),
        }
    };
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                let o = kind_of(v)?;
                let name = o
                    .get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                Ok((name, o))
            })
            .collect(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| Ok((k.clone(), kind_of(v)?)))
            .collect(),
        Some(_) => Err(type_err(
            option,
            "must be an object of named dimensions or an array of dimensions",
        )),
    }
}

impl CostModel {
    /// From `{requestDims, runDims}`, each `{name: dim}` or `[dim, …]`, a dimension being
    /// `{kind: "InputTokens" | "OutputTokens", pricePerMillion, granularity?}`,
    /// `{kind: "EndpointTime", pricePerHour, granularitySecs?}`,
    /// `{kind: "SageMakerRTEndpointCompute", instanceType, instanceCount?, pricePerHour, region?}`
    /// or `{kind: "SageMakerRTEndpointStorage", gbsProvisioned, pricePerGbHour, region?}`.
    /// Duplicate names across both groups are an error, as in LLMeter.
    pub fn from_config(config: &Value) -> Result<CostModel, OptionError> {
        let Value::Object(c) = config else {
            return Err(type_err("CostModel", "options must be an object"));
        };
        let mut model = CostModel::default();
        let mut seen: Vec<String> = Vec::new();
        for (name, o) in named(c.get("requestDims"), "CostModel.requestDims")? {
            const OPT: &str = "CostModel.requestDims";
            let price = amount(&o, "pricePerMillion", OPT, None)?;
            let granularity = positive_int(&o, "granularity", OPT)?;
            let dim = match o.get("kind").and_then(Value::as_str) {
                Some("InputTokens") => RequestDim::InputTokens {
                    price_per_million: price,
                    granularity,
                },
                Some("OutputTokens") => RequestDim::OutputTokens {
                    price_per_million: price,
                    granularity,
                },
                other => {
                    return Err(range_err(
                        OPT,
                        format!("unknown request dimension {other:?} (InputTokens, OutputTokens)"),
                    ))
                }
            };
            if seen.contains(&name) {
                return Err(range_err(
                    OPT,
                    format!("duplicate cost dimension name {name:?}"),
                ));
            }
            seen.push(name.clone());
            model.request_dims.push((name, dim));
        }
        for (name, o) in named(c.get("runDims"), "CostModel.runDims")? {
            const OPT: &str = "CostModel.runDims";
            let dim = match o.get("kind").and_then(Value::as_str) {
                Some("EndpointTime") => RunDim::EndpointTime {
                    price_per_hour: amount(&o, "pricePerHour", OPT, None)?,
                    granularity_secs: amount(&o, "granularitySecs", OPT, Some(1.0))?,
                },
                Some("SageMakerRTEndpointCompute") => RunDim::SageMakerRTEndpointCompute {
                    instance_type: optional_string(&o, "instanceType", OPT)?
                        .ok_or_else(|| type_err(OPT, "instanceType is required (e.g. \"ml.g5.xlarge\")"))?,
                    instance_count: amount(&o, "instanceCount", OPT, Some(1.0))?,
                    price_per_hour: amount(&o, "pricePerHour", OPT, None).map_err(|_| {
                        type_err(OPT, "pricePerHour is required (prices are not looked up here)")
                    })?,
                    region: optional_string(&o, "region", OPT)?,
                },
                Some("SageMakerRTEndpointStorage") => RunDim::SageMakerRTEndpointStorage {
                    gbs_provisioned: amount(&o, "gbsProvisioned", OPT, None)?,
                    price_per_gb_hour: amount(&o, "pricePerGbHour", OPT, None).map_err(|_| {
                        type_err(OPT, "pricePerGbHour is required (prices are not looked up here)")
                    })?,
                    region: optional_string(&o, "region", OPT)?,
                },
                other => {
                    return Err(range_err(
                        OPT,
                        format!("unknown run dimension {other:?} (EndpointTime, SageMakerRTEndpointCompute, SageMakerRTEndpointStorage)"),
                    ))
                }
            };
            if seen.contains(&name) {
                return Err(range_err(
                    OPT,
                    format!("duplicate cost dimension name {name:?}"),
                ));
            }
            seen.push(name.clone());
            model.run_dims.push((name, dim));
        }
        if model.request_dims.is_empty() && model.run_dims.is_empty() {
            return Err(range_err(
                "CostModel",
                "give at least one request or run dimension",
            ));
        }
        Ok(model)
    }

    /// Each request dimension's cost for one response.
    pub fn request_costs(&self, r: &InvocationResponse) -> Vec<(String, Option<f64>)> {
        self.request_dims
            .iter()
            .map(|(name, dim)| (name.clone(), dim.cost(r)))
            .collect()
    }

    /// LLMeter's `after_invoke`: `cost_<dim>` and `cost_total` into `annotations`.
    pub fn annotate(&self, r: &mut InvocationResponse) {
        if self.request_dims.is_empty() {
            return;
        }
        let costs = self.request_costs(r);
        let total = python_total(costs.iter().map(|(_, c)| *c));
        let annotations = r.annotations.get_or_insert_with(Map::new);
        for (name, cost) in costs {
            annotations.insert(
                format!("{PREFIX}{name}"),
                cost.map_or(Value::Null, float_value),
            );
        }
        annotations.insert(
            format!("{PREFIX}total"),
            total.map_or(Value::Null, float_value),
        );
    }

    /// LLMeter's `after_run` (`calculate_run_cost(recalculate_request_costs=False)`): the stats
    /// contributed by the model, in LLMeter's key order.
    pub fn run_stats(&self, result: &RunResult) -> Map<String, Value> {
        // Request costs read back from the annotations (cost_ keys but the total), in order.
        let per_response: Vec<Vec<(String, Option<f64>)>> = result
            .responses
            .iter()
            .filter_map(|r| {
                let costs: Vec<(String, Option<f64>)> = r
                    .annotations
                    .iter()
                    .flatten()
                    .filter_map(|(k, v)| {
                        let name = k.strip_prefix(PREFIX)?;
                        (name != "total").then(|| (name.to_string(), v.as_f64()))
                    })
                    .collect();
                (!costs.is_empty()).then_some(costs)
            })
            .collect();
        let mut dims: Vec<String> = Vec::new();
        for costs in &per_response {
            for (name, _) in costs {
                if !dims.contains(name) {
                    dims.push(name.clone());
                }
            }
        }
        let mut stats = Map::new();
        for dim in &dims {
            let values = per_response
                .iter()
                .filter_map(|c| c.iter().find(|(n, _)| n == dim).and_then(|(_, v)| *v));
            for (suffix, v) in summary_stats(&Samples::floats(values), &DEFAULT_PERCENTILES) {
                stats.insert(format!("{PREFIX}{dim}_per_request-{suffix}"), v);
            }
        }
        let totals = per_response
            .iter()
            .filter_map(|c| python_total(c.iter().map(|(_, v)| *v)));
        for (suffix, v) in summary_stats(&Samples::floats(totals), &DEFAULT_PERCENTILES) {
            stats.insert(format!("{PREFIX}per_request-{suffix}"), v);
        }
        // The run's cost: run dimensions, then request dimensions summed over the responses.
        let mut run_cost: Vec<(String, Option<f64>)> = self
            .run_dims
            .iter()
            .map(|(name, dim)| (name.clone(), dim.cost(result.summary.total_test_time)))
            .collect();
        for dim in &dims {
            let sum = per_response
                .iter()
                .filter_map(|c| c.iter().find(|(n, _)| n == dim).and_then(|(_, v)| *v))
                .reduce(|a, b| a + b);
            match run_cost.iter_mut().find(|(n, _)| n == dim) {
                Some((_, existing)) => *existing = existing.zip(sum).map(|(a, b)| a + b),
                None => {
                    if let Some(sum) = sum {
                        run_cost.push((dim.clone(), Some(sum)));
                    }
                }
            }
        }
        for (name, cost) in &run_cost {
            if let Some(c) = cost {
                stats.insert(format!("{PREFIX}{name}"), float_value(*c));
            }
        }
        if let Some(total) = python_total(run_cost.iter().map(|(_, c)| *c)) {
            stats.insert(format!("{PREFIX}total"), float_value(total));
        }
        stats
    }

    /// LLMeter 0.2.0's envelope, which its run-config loader rebuilds into a `CostModel`.
    pub fn envelope(&self) -> Value {
        let request: Map<String, Value> = self
            .request_dims
            .iter()
            .map(|(n, d)| (n.clone(), d.envelope()))
            .collect();
        let run: Map<String, Value> = self
            .run_dims
            .iter()
            .map(|(n, d)| (n.clone(), d.envelope()))
            .collect();
        json!({
            "__llmeter_class__": "llmeter.callbacks.cost.model.CostModel",
            "__llmeter_state__": {"request_dims": request, "run_dims": run},
        })
    }
}

/// Python's `sum(values)` from 0, left to right; `None` if any value is `None` (LLMeter's
/// `CalculatedCostWithDimensions.total`).
fn python_total(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let mut total = 0.0;
    for v in values {
        total += v?;
    }
    Some(total)
}

impl Callback for CostModel {
    fn has_after_invoke(&self) -> bool {
        !self.request_dims.is_empty()
    }
    fn after_invoke<'a>(&'a self, response: &'a mut InvocationResponse) -> HookFuture<'a> {
        self.annotate(response);
        Box::pin(futures::future::ready(Ok(())))
    }
    fn after_run<'a>(&'a self, result: &'a mut RunResult) -> HookFuture<'a> {
        let stats = self.run_stats(result);
        Box::pin(futures::future::ready(result.contribute_stats(stats)))
    }
    fn describe(&self) -> Option<Value> {
        Some(self.envelope())
    }
    fn name(&self) -> String {
        "CostModel".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{RunInfo, Summary};

    fn ok(tokens_in: u64, tokens_out: u64) -> InvocationResponse {
        InvocationResponse {
            num_tokens_input: Some(tokens_in),
            num_tokens_output: Some(tokens_out),
            ..Default::default()
        }
    }

    fn model() -> CostModel {
        CostModel::from_config(&json!({
            "requestDims": [{"kind": "InputTokens", "pricePerMillion": 3}, {"kind": "OutputTokens", "pricePerMillion": 15}],
            "runDims": {"endpoint": {"kind": "EndpointTime", "pricePerHour": 36}},
        }))
        .unwrap()
    }

    fn result_of(responses: Vec<InvocationResponse>, total_test_time: Option<f64>) -> RunResult {
        let summary = Summary {
            total_requests: Some(responses.len() as u64),
            total_test_time,
            ..Default::default()
        };
        RunResult::new(
            summary,
            responses,
            vec![],
            RunInfo::default(),
            Map::new(),
            vec![],
        )
    }

    #[test]
    fn reference_example() {
        // llmeter.md §11.2: 2 responses of 3 in / 3 out tokens, $3/M in, $15/M out, $36/h, sub-second run.
        let m = model();
        let mut responses = vec![ok(3, 3), ok(3, 3)];
        for r in &mut responses {
            m.annotate(r);
        }
        let a = responses[0].annotations.clone().unwrap();
        assert_eq!(a["cost_InputTokens"], json!(9e-06));
        assert_eq!(a["cost_OutputTokens"], json!(4.5e-05));
        assert_eq!(a["cost_total"], json!(5.4000000000000005e-05));
        let stats = m.run_stats(&result_of(responses, Some(0.4)));
        let keys: Vec<&str> = stats.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "cost_InputTokens_per_request-average",
                "cost_InputTokens_per_request-p50",
                "cost_InputTokens_per_request-p90",
                "cost_InputTokens_per_request-p99",
                "cost_OutputTokens_per_request-average",
                "cost_OutputTokens_per_request-p50",
                "cost_OutputTokens_per_request-p90",
                "cost_OutputTokens_per_request-p99",
                "cost_per_request-average",
                "cost_per_request-p50",
                "cost_per_request-p90",
                "cost_per_request-p99",
                "cost_endpoint",
                "cost_InputTokens",
                "cost_OutputTokens",
                "cost_total",
            ]
        );
        assert_eq!(stats["cost_InputTokens_per_request-average"], json!(9e-06));
        assert_eq!(
            stats["cost_OutputTokens_per_request-average"],
            json!(4.5e-05)
        );
        assert_eq!(
            stats["cost_per_request-average"],
            json!(5.4000000000000005e-05)
        );
        assert_eq!(stats["cost_endpoint"], json!(0.01));
        assert_eq!(stats["cost_InputTokens"], json!(1.8e-05));
        assert_eq!(stats["cost_OutputTokens"], json!(9e-05));
        assert_eq!(stats["cost_total"], json!(0.010108));
    }

    #[test]
    fn failures_keep_costs() {
        let m = model();
        let mut responses = vec![
            ok(3, 3),
            InvocationResponse {
                error: Some("boom".into()),
                ..Default::default()
            },
            ok(3, 3),
        ];
        for r in &mut responses {
            m.annotate(r);
        }
        assert_eq!(
            responses[1].annotations.as_ref().unwrap()["cost_total"],
            Value::Null
        );
        let stats = m.run_stats(&result_of(responses, Some(0.4)));
        assert_eq!(stats["cost_InputTokens"], json!(1.8e-05));
        assert_eq!(stats["cost_total"], json!(0.010108));
        assert_eq!(stats["cost_per_request-p50"], json!(5.4000000000000005e-05));
        // An interrupted run (no total_test_time): no endpoint cost, no total.
        let stats = m.run_stats(&result_of(
            vec![{
                let mut r = ok(3, 3);
                m.annotate(&mut r);
                r
            }],
            None,
        ));
        assert!(!stats.contains_key("cost_endpoint") && !stats.contains_key("cost_total"));
        assert_eq!(stats["cost_OutputTokens"], json!(4.5e-05));
    }

    #[test]
    fn granularity_and_sagemaker_dims() {
        let m = CostModel::from_config(&json!({
            "requestDims": {"in": {"kind": "InputTokens", "pricePerMillion": 2.5, "granularity": 1000}},
            "runDims": [
                {"kind": "SageMakerRTEndpointCompute", "instanceType": "ml.g5.xlarge", "instanceCount": 2, "pricePerHour": 1.5},
                {"kind": "SageMakerRTEndpointStorage", "gbsProvisioned": 10, "pricePerGbHour": 0.1},
                {"kind": "EndpointTime", "pricePerHour": 7.2, "granularitySecs": 60},
            ],
        }))
        .unwrap();
        assert_eq!(m.request_costs(&ok(1001, 0))[0].1, Some(2000.0 * 2.5 / 1e6));
        assert_eq!(
            m.run_dims[0].1.cost(Some(10.2)),
            Some(11.0 * 2.0 * 1.5 / 3600.0)
        );
        assert_eq!(
            m.run_dims[1].1.cost(Some(10.2)),
            Some(11.0 * 10.0 * 0.1 / 3600.0)
        );
        assert_eq!(m.run_dims[2].1.cost(Some(61.0)), Some(120.0 * 7.2 / 3600.0));
        let e = m.envelope();
        assert_eq!(
            e["__llmeter_state__"]["run_dims"]["EndpointTime"]["__llmeter_state__"]
                ["granularity_secs"],
            json!(60)
        );
        assert_eq!(
            e["__llmeter_state__"]["request_dims"]["in"]["__llmeter_state__"]["price_per_million"],
            json!(2.5)
        );
        let e = model().envelope();
        assert_eq!(
            e["__llmeter_state__"]["run_dims"]["endpoint"]["__llmeter_state__"],
            json!({"price_per_hour": 36, "granularity_secs": 1})
        );
    }

    #[test]
    fn bad_configs_name_the_option() {
        let e = CostModel::from_config(&json!({"requestDims": [{"kind": "InputTokens", "pricePerMillion": 1}, {"kind": "InputTokens", "pricePerMillion": 2}]})).unwrap_err();
        assert!(e.message.contains("duplicate"), "{e}");
        let e = CostModel::from_config(
            &json!({"runDims": [{"kind": "SageMakerRTEndpointCompute", "instanceType": "ml.x"}]}),
        )
        .unwrap_err();
        assert!(e.message.contains("pricePerHour"), "{e}");
        let e = CostModel::from_config(&json!({"requestDims": [{"kind": "Nope"}]})).unwrap_err();
        assert_eq!(e.option, "CostModel.requestDims");
        assert!(CostModel::from_config(&json!({})).is_err());
    }
}
