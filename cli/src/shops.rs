//! shop-sync in process: the orders table's changes queued as the stream step queues them, and
//! the worker acting on the connections' shops (the local Shopify and WooCommerce doubles,
//! wherever they listen).

use std::sync::Arc;
use std::time::Duration;

use orderflow_shared::adapters::embedded::EmbeddedOrderStore;
use orderflow_shared::adapters::embedded::event_source::{Polled, poll_once};
use orderflow_shared::batch::Budget;
use orderflow_shared::mapping::MappingRef;
use orderflow_shared::ports::SystemClock;
use orderflow_shared::shop::{BuiltShops, ShopsFile};
use shop_sync::ShopSync;

use crate::bridge::LocalConfig;
use crate::config_dir::LocalMapping;
use crate::pipeline::{Queue, Time, drain_queue};

const SHOP_SYNC_ARN: &str = "arn:aws:sqs:local:000000000000:shop-sync.fifo";
/// As the template's redrive policy on the shop-sync queue.
const SHOP_MAX_RECEIVES: u32 = 10;
/// As the template's SHOP_CLAIM_TIMEOUT_SECONDS.
const CLAIM_TIMEOUT: Duration = Duration::from_secs(300);

type LocalShopSync = ShopSync<Arc<EmbeddedOrderStore>, BuiltShops<LocalMapping>, Queue>;

impl LocalConfig {
    /// The shops of the connections; `origins` (shop name, `http://127.0.0.1:<port>`) moves a shop's base URL
    /// to where its double listens.
    pub fn shops(&self, origins: &[(&str, String)]) -> Result<ShopsFile, String> {
        let runtime = self.runtime(&[])?;
        let missing = |name: &str| runtime.missing("shop", name);
        let mut file = runtime.shops.clone();
        for (name, origin) in origins {
            let shop = file.shops.get_mut(*name).ok_or_else(|| missing(name))?;
            let path_start = shop.base_url.find("://").map(|i| i + 3).unwrap_or_default();
            let path = shop.base_url[path_start..].find('/').map_or("", |i| &shop.base_url[path_start + i..]);
            shop.base_url = format!("{origin}{path}");
        }
        Ok(file)
    }
}

/// The shop-sync queue, its DLQ and the worker over the pipeline's orders.
pub struct Shops {
    pub queue: Queue,
    pub dlq: Queue,
    worker: LocalShopSync,
    time: Time,
}

impl Shops {
    pub fn new(
        config: &LocalConfig,
        file: &ShopsFile,
        store: Arc<EmbeddedOrderStore>,
        time: Time,
    ) -> Result<Self, String> {
        let secrets = config.secrets_by_reference()?;
        let mapping = |reference: &MappingRef| match reference {
            MappingRef::File(path) => config.dir.mapping(path),
            MappingRef::S3 { .. } => Err("a local run reads mappings from files".to_owned()),
        };
        let shops = BuiltShops::new(file, &secrets, mapping, Arc::new(SystemClock))?;
        let dlq = Arc::new(time.queue("shop-sync-dlq.fifo"));
        let queue = Arc::new(time.queue("shop-sync.fifo").with_redrive(dlq.clone(), SHOP_MAX_RECEIVES));
        let worker = ShopSync { store, shops, dlq: dlq.clone(), claim_timeout: CLAIM_TIMEOUT };
        Ok(Self { queue, dlq, worker, time })
    }

    /// The store's changes since `sequence`, queued as the stream step would; how many.
    pub async fn forward(&self, changes: &[orderflow_shared::adapters::embedded::Change]) -> Result<usize, String> {
        shop_sync::stream::forward_changes(&*self.queue, changes).await
    }

    /// Feeds the shop-sync queue to the worker until it is empty.
    pub async fn drain(&self) -> Result<Polled, String> {
        drain_queue(&self.queue, &self.time, |queue| {
            poll_once(queue, 10, SHOP_SYNC_ARN, |event| async {
                Ok::<_, std::convert::Infallible>(
                    shop_sync::worker::handle(&self.worker, event, Budget::unlimited()).await,
                )
            })
        })
        .await
    }
}
