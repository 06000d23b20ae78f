//! State shared by every connection: configuration, clock, ground truth, the seeded
//! generator and request ids.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::config::Config;
use crate::cors::Cors;
use crate::faults::FaultPolicy;
use crate::ground_truth::{Clock, GroundTruthStore};

pub struct AppState {
    pub config: Config,
    pub clock: Clock,
    pub records: GroundTruthStore,
    pub cors: Cors,
    pub faults: FaultPolicy,
    /// `--max-concurrency`: one permit per chat request being generated.
    pub slots: Option<Arc<Semaphore>>,
    /// Server-wide generator. Each request takes one draw from it (its own seed) plus its
    /// fault decision, so runs with `--seed` are reproducible and the lock is held briefly.
    rng: Mutex<StdRng>,
    id_prefix: u32,
    id_counter: AtomicU64,
}

impl AppState {
    pub fn new(config: Config) -> Self {
        let rng = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        AppState {
            clock: Clock::new(),
            records: GroundTruthStore::new(config.max_records),
            cors: Cors::new(!config.no_cors, config.cors_max_age_s),
            faults: config.fault_policy(),
            slots: config
                .max_concurrency
                .map(|n| Arc::new(Semaphore::new(n as usize))),
            rng: Mutex::new(rng),
            // Ids differ across restarts even with a fixed seed, so they never collide in logs.
            id_prefix: rand::rng().random(),
            id_counter: AtomicU64::new(0),
            config,
        }
    }

    /// A unique request id: 8 hex digits per process, then a 12-digit counter.
    pub fn next_request_id(&self) -> String {
        let n = self.id_counter.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{:08x}{:012x}", self.id_prefix, n)
    }

    /// Run `draw` with the server-wide generator.
    pub fn with_rng<T>(&self, draw: impl FnOnce(&mut StdRng) -> T) -> T {
        // Poisoning cannot leave a generator in an invalid state: keep using it.
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        draw(&mut rng)
    }
}

/// Seconds since the Unix epoch, for the `created` fields.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
