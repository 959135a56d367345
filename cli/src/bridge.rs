//! The webhook bridge in process: the receiver behind `POST /webhooks/{source}`, the erp-sync
//! queue with its DLQ, and the worker that pushes what it holds to an ERP connector. The
//! receiver shares the pipeline's orders queue, so webhook orders get the same lifecycle.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use orderflow_shared::adapters::embedded::ManualClock;
use orderflow_shared::adapters::embedded::MemoryAppStore;
use orderflow_shared::adapters::embedded::MemoryReplayGuard;
use orderflow_shared::adapters::embedded::event_source::{Polled, poll_once};
use orderflow_shared::apps::seed::{self, ConnectionsFile};
use orderflow_shared::apps::{self, LiveApps, Registry, Runtime};
use orderflow_shared::batch::Budget;
use orderflow_shared::erp::{ConnectorConfig, HttpConnector};
use orderflow_shared::mapping::MappingRef;
use orderflow_shared::ports::{Clock, SystemClock};
use orderflow_shared::secrets::Secret;
use orderflow_shared::webhook::WebhookSources;
use webhook_bridge::{Receiver, Reply, StaticKeys, Worker};

use crate::config_dir::{CONNECTIONS, ConfigDir, LocalMapping, SECRETS};
use crate::pipeline::{Queue, Time, drain_queue};

const ERP_SYNC_ARN: &str = "arn:aws:sqs:local:000000000000:erp-sync.fifo";
/// As the template's redrive policy on the erp-sync queue.
const ERP_MAX_RECEIVES: u32 = 10;

pub type Connector = HttpConnector<LocalMapping>;
type LocalReceiver = Receiver<LocalApps, StaticKeys, MemoryReplayGuard, Queue, Queue>;

/// The local configuration files: those of `dir` ([`ConfigDir`]), except any named on its own.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    pub dir: ConfigDir,
    pub connections: Option<PathBuf>,
    pub secrets: Option<PathBuf>,
}

/// The apps as the in-process functions read them: through the cache, from a store in memory
/// (the demo) or kept in `serve`'s `--state` folder, where `orderflow apps` changes it.
pub type LocalApps = Arc<LiveApps<MemoryAppStore>>;

impl LocalConfig {
    /// Where the connections are read from, for what `serve` prints.
    pub fn connections_origin(&self) -> String {
        self.dir.origin(CONNECTIONS, self.connections.as_deref())
    }

    /// The app definitions and the connections, as of today. `origins` (configured origin,
    /// actual origin) moves a connection's URLs to where a test server listens.
    pub fn registry(&self, origins: &[(&str, &str)]) -> Result<Registry, String> {
        let mut text = self.dir.read(CONNECTIONS, self.connections.as_deref())?;
        for (configured, actual) in origins {
            text = text.replace(configured, actual);
        }
        let connections =
            ConnectionsFile::from_json(&text).map_err(|e| format!("{}: {e}", self.connections_origin()))?;
        let definitions = self.dir.app_definitions()?;
        let texts: Vec<&str> = definitions.iter().map(|(_, text)| text.as_str()).collect();
        seed::registry(&texts, &connections, today())
            .map_err(|e| format!("{} with the app definitions {}: {e}", self.connections_origin(), self.dir))
    }

    /// Every connection as it runs today (see [`Self::registry`]).
    pub fn runtime(&self, origins: &[(&str, &str)]) -> Result<Runtime, String> {
        Ok(self.registry(origins)?.runtime(today()))
    }

    /// The apps for in-process functions: kept in `file` (seeded from the configuration the
    /// first time), else in memory.
    pub fn apps(&self, file: Option<PathBuf>, origins: &[(&str, &str)]) -> Result<LocalApps, String> {
        let store = self.apps_store(file, origins)?;
        Ok(Arc::new(LiveApps::new(store, Arc::new(SystemClock), apps::live::DEFAULT_TTL_MS)))
    }

    /// The apps store itself (see [`Self::apps`]), for what reads it whole: the portal.
    pub fn apps_store(&self, file: Option<PathBuf>, origins: &[(&str, &str)]) -> Result<MemoryAppStore, String> {
        match file {
            Some(file) => {
                let folder = file.parent().unwrap_or(Path::new("."));
                std::fs::create_dir_all(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
                MemoryAppStore::kept_in(file.clone(), || self.registry(origins))
                    .map_err(|e| format!("{}: {}", file.display(), e.message))
            }
            None => Ok(MemoryAppStore::new(self.registry(origins)?)),
        }
    }

    pub fn webhook_sources(&self) -> Result<WebhookSources, String> {
        Ok(self.runtime(&[])?.webhook_sources)
    }

    fn secrets_text(&self) -> Result<String, String> {
        self.dir.read(SECRETS, self.secrets.as_deref())
    }

    /// The `local:<name>` secret values, by name.
    pub fn secret_values(&self) -> Result<HashMap<String, String>, String> {
        serde_json::from_str(&self.secrets_text()?)
            .map_err(|e| format!("{}: {e}", self.dir.origin(SECRETS, self.secrets.as_deref())))
    }

    /// The local secrets by their references as configuration files write them (`local:<name>`).
    pub fn secrets_by_reference(&self) -> Result<HashMap<String, Secret>, String> {
        Ok(self
            .secret_values()?
            .into_iter()
            .map(|(name, value)| (format!("local:{name}"), Secret::new(value)))
            .collect())
    }

    /// The ERP connector of connection `name`; `origin` (e.g. `http://127.0.0.1:40123`)
    /// replaces the origin of its URLs when the ERP listens somewhere else than configured.
    pub fn connector(&self, name: &str, origin: Option<&str>) -> Result<Connector, String> {
        let missing = |runtime: &Runtime| runtime.missing("ERP connector", name);
        let runtime = self.runtime(&[])?;
        let mut config = runtime.connectors.connectors.get(name).cloned().ok_or_else(|| missing(&runtime))?;
        if let Some(origin) = origin {
            let configured = origin_of(&config.base_url)?;
            let moved = self.runtime(&[(configured, origin)])?;
            config = moved.connectors.connectors.get(name).cloned().ok_or_else(|| missing(&moved))?;
        }
        self.build_connector(name, &config)
    }

    /// The connector of `config` (connection `name`'s ERP action), with the local secrets and
    /// mappings.
    pub fn build_connector(&self, name: &str, config: &ConnectorConfig) -> Result<Connector, String> {
        let values = self.secret_values()?;
        let secrets: HashMap<String, Secret> = config
            .secret_refs()
            .into_iter()
            .filter_map(|r| Some((r.to_owned(), Secret::new(values.get(r.strip_prefix("local:")?)?.as_str()))))
            .collect();
        let mapping = match &config.mapping_ref {
            MappingRef::File(path) => self.dir.mapping(path)?,
            MappingRef::S3 { .. } => return Err(format!("connector {name}: a local run reads mappings from files")),
        };
        HttpConnector::new(name, config, &secrets, mapping, Arc::new(SystemClock)).map_err(|e| e.to_string())
    }
}

/// The UTC day, for versions' deprecation dates.
pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// `https://host:port` of a URL.
pub fn origin_of(url: &str) -> Result<&str, String> {
    let host_start = url.find("://").map(|i| i + 3).ok_or_else(|| format!("{url}: no scheme"))?;
    Ok(&url[..url[host_start..].find('/').map_or(url.len(), |i| host_start + i)])
}

/// The bridge: receiver, queues and (when a connector is given) the ERP worker.
pub struct Bridge {
    receiver: LocalReceiver,
    pub erp_sync: Queue,
    pub erp_dlq: Queue,
    worker: Option<Worker<Connector, Queue>>,
    time: Time,
}

impl Bridge {
    /// `orders` is the pipeline's orders queue; without `connector`, erp-sync messages wait
    /// in their queue (nothing is lost; a later run with a connector pushes them).
    pub fn new(
        config: &LocalConfig,
        apps: LocalApps,
        orders: Queue,
        connector: Option<Connector>,
        time: Time,
    ) -> Result<Self, String> {
        let keys = StaticKeys::from_local_secrets(&config.secret_values()?);
        let erp_dlq = Arc::new(time.queue("erp-dlq.fifo"));
        let erp_sync = Arc::new(time.queue("erp-sync.fifo").with_redrive(erp_dlq.clone(), ERP_MAX_RECEIVES));
        let receiver = Receiver {
            apps,
            keys,
            guard: MemoryReplayGuard::new(),
            erp_sync: erp_sync.clone(),
            orders,
            retention: webhook_bridge::receiver::DEFAULT_RETENTION,
        };
        let worker = connector.map(|connector| Worker { connector, dlq: erp_dlq.clone() });
        Ok(Self { receiver, erp_sync, erp_dlq, worker, time })
    }

    /// The time deliveries are checked against.
    pub fn now(&self) -> webhook_bridge::OffsetDateTime {
        self.time.now()
    }

    /// One delivery to `POST /webhooks/{source}`, checked against the current time.
    pub async fn receive(&self, source: &str, headers: &[(String, String)], body: &[u8]) -> Reply {
        self.receiver.receive(source, headers, body, self.time.now()).await
    }

    /// The lambda_http entry point, for `orderflow serve`.
    pub async fn handle(&self, req: lambda_http::Request) -> lambda_http::Response<lambda_http::Body> {
        match webhook_bridge::handle(&self.receiver, req).await {
            Ok(response) => response,
            Err(e) => crate::pipeline::internal_error(&e.to_string()),
        }
    }

    /// Feeds erp-sync to the worker until nothing is left to push; without a worker, nothing.
    pub async fn drain_erp(&self) -> Result<Polled, String> {
        let Some(worker) = &self.worker else { return Ok(Polled::default()) };
        drain_queue(&self.erp_sync, &self.time, |queue| {
            poll_once(queue, 10, ERP_SYNC_ARN, |event| async {
                Ok::<_, std::convert::Infallible>(
                    webhook_bridge::worker::handle(worker, event, Budget::unlimited()).await,
                )
            })
        })
        .await
    }
}

impl Time {
    fn now(&self) -> webhook_bridge::OffsetDateTime {
        let ms = match self {
            Time::Real => SystemClock.now_ms(),
            Time::Manual(clock) => ManualClock::now_ms(clock),
        };
        webhook_bridge::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .expect("a clock reading is a valid time")
    }
}
