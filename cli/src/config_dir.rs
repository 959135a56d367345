//! Where `serve` and `demo` find their configuration files (the app definitions, the
//! connections, their secrets and the connectors' field mappings), so that an installed
//! `orderflow` runs from any folder:
//!
//! 1. the directory given with `--config-dir`, which must exist;
//! 2. else `config/` in the working directory (the repository's, when run from its root);
//! 3. else the repository's `config/` files as they were at build time, compiled in.
//!
//! A directory that is used is used whole: a file missing from it is an error that names the
//! file, never a silent mix of a directory and the built-in copies. A file given on its own
//! (`--secrets FILE`, ...) is read instead of that one file.

use std::fmt;
use std::path::{Path, PathBuf};

use orderflow_shared::error::PortError;
use orderflow_shared::mapping::{FileSource, MappingSource};

pub const CONNECTIONS: &str = "connections.local.json";
pub const SECRETS: &str = "local-secrets.json";
pub const CATALOG: &str = "catalog.local.json";
/// The folder of app definitions inside the configuration directory.
pub const APPS: &str = "apps";

/// Every file a local run may read, by its path inside the configuration directory.
const BUILT_IN: &[(&str, &str)] = &[
    (CONNECTIONS, include_str!("../../config/connections.local.json")),
    (SECRETS, include_str!("../../config/local-secrets.json")),
    (CATALOG, include_str!("../../config/catalog.local.json")),
    ("apps/business-central@1.0.0.json", include_str!("../../config/apps/business-central@1.0.0.json")),
    ("apps/generic-hmac@1.0.0.json", include_str!("../../config/apps/generic-hmac@1.0.0.json")),
    ("apps/partner-rest@1.0.0.json", include_str!("../../config/apps/partner-rest@1.0.0.json")),
    ("apps/partner-rest@2.0.0.json", include_str!("../../config/apps/partner-rest@2.0.0.json")),
    ("apps/sap-b1@1.0.0.json", include_str!("../../config/apps/sap-b1@1.0.0.json")),
    ("apps/shopify@1.0.0.json", include_str!("../../config/apps/shopify@1.0.0.json")),
    ("apps/standard-webhooks@1.0.0.json", include_str!("../../config/apps/standard-webhooks@1.0.0.json")),
    ("apps/woocommerce@1.0.0.json", include_str!("../../config/apps/woocommerce@1.0.0.json")),
    ("mappings/business-central.json", include_str!("../../config/mappings/business-central.json")),
    ("mappings/sap-b1.json", include_str!("../../config/mappings/sap-b1.json")),
];

/// The configuration directory a run uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigDir {
    Dir(PathBuf),
    BuiltIn,
}

impl ConfigDir {
    /// `explicit` is `--config-dir`; a path there that is not a directory is an error, not a
    /// reason to look elsewhere.
    pub fn locate(explicit: Option<&Path>) -> Result<Self, String> {
        match explicit {
            Some(dir) if dir.is_dir() => Ok(Self::Dir(dir.to_owned())),
            Some(dir) if dir.exists() => Err(format!("--config-dir {}: not a directory", dir.display())),
            Some(dir) => Err(format!("--config-dir {}: no such directory", dir.display())),
            None if Path::new("config").is_dir() => Ok(Self::Dir(PathBuf::from("config"))),
            None => Ok(Self::BuiltIn),
        }
    }

    /// Where `name` is read from, for messages: `given` (a file named on its own) if any.
    pub fn origin(&self, name: &str, given: Option<&Path>) -> String {
        match (given, self) {
            (Some(path), _) => path.display().to_string(),
            (None, Self::Dir(dir)) => dir.join(name).display().to_string(),
            (None, Self::BuiltIn) => format!("{name} (built in)"),
        }
    }

    /// The text of `name`, or of `given` when a file was named on its own.
    pub fn read(&self, name: &str, given: Option<&Path>) -> Result<String, String> {
        let path = match (given, self) {
            (Some(path), _) => path.to_owned(),
            (None, Self::Dir(dir)) => dir.join(name),
            (None, Self::BuiltIn) => return built_in(Path::new(name)).map(|(_, text)| text.to_owned()),
        };
        std::fs::read_to_string(&path).map_err(|e| match (e.kind(), given, self) {
            (std::io::ErrorKind::NotFound, None, Self::Dir(dir)) => missing(dir, name),
            _ => format!("{}: {e}", path.display()),
        })
    }

    /// The app definitions: every `apps/*.json` of the directory, by name, with where each
    /// came from (for messages).
    pub fn app_definitions(&self) -> Result<Vec<(String, String)>, String> {
        match self {
            Self::BuiltIn => Ok(BUILT_IN
                .iter()
                .filter(|(name, _)| name.starts_with("apps/"))
                .map(|(name, text)| (format!("{name} (built in)"), (*text).to_owned()))
                .collect()),
            Self::Dir(dir) => {
                let folder = dir.join(APPS);
                let entries = std::fs::read_dir(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
                let mut paths: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect();
                paths.sort();
                paths
                    .into_iter()
                    .map(|p| {
                        std::fs::read_to_string(&p)
                            .map(|t| (p.display().to_string(), t))
                            .map_err(|e| format!("{}: {e}", p.display()))
                    })
                    .collect()
            }
        }
    }

    /// The mapping a connector's `file:` reference names. Such paths are written from the
    /// repository's root, as the function reads them from its working directory; a path under
    /// `config/` is taken from this configuration directory instead, and any other path from
    /// the working directory as written.
    pub fn mapping(&self, path: &Path) -> Result<LocalMapping, String> {
        let Ok(name) = path.strip_prefix("config") else { return Ok(LocalMapping::File(FileSource::new(path))) };
        match self {
            Self::Dir(dir) if dir.join(name).is_file() => Ok(LocalMapping::File(FileSource::new(dir.join(name)))),
            Self::Dir(dir) => Err(missing(dir, &name.display().to_string())),
            Self::BuiltIn => built_in(name).map(|(name, text)| LocalMapping::BuiltIn { name, text }),
        }
    }
}

impl fmt::Display for ConfigDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dir(dir) => write!(f, "from {}", dir.display()),
            Self::BuiltIn => f.write_str("built in (no config/ here; --config-dir DIR to use one)"),
        }
    }
}

fn missing(dir: &Path, name: &str) -> String {
    format!("the configuration directory {} has no {name}", dir.display())
}

fn built_in(name: &Path) -> Result<(&'static str, &'static str), String> {
    BUILT_IN
        .iter()
        .find(|(known, _)| Path::new(known) == name)
        .copied()
        .ok_or_else(|| format!("no {} is built in; give --config-dir with it", name.display()))
}

/// A connector's mapping in a local run: a file (reloaded on the connector's TTL, so edits
/// show up while `serve` runs) or the built-in copy.
#[derive(Debug, Clone)]
pub enum LocalMapping {
    File(FileSource),
    BuiltIn { name: &'static str, text: &'static str },
}

impl MappingSource for LocalMapping {
    fn describe(&self) -> String {
        match self {
            Self::File(source) => source.describe(),
            Self::BuiltIn { name, .. } => format!("built-in config/{name}"),
        }
    }

    async fn fetch(&self) -> Result<String, PortError> {
        match self {
            Self::File(source) => source.fetch().await,
            Self::BuiltIn { text, .. } => Ok((*text).to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use orderflow_shared::test_dir::TestDir;

    use super::*;

    #[test]
    fn a_directory_is_read_whole_and_names_the_file_it_lacks() {
        let dir = TestDir::new("config-dir-whole");
        std::fs::write(dir.join(SECRETS), "{\"standard\": \"changed\"}").unwrap();
        let config = ConfigDir::locate(Some(&*dir)).unwrap();
        assert_eq!(config.read(SECRETS, None).unwrap(), "{\"standard\": \"changed\"}");
        let err = config.read(CONNECTIONS, None).unwrap_err();
        assert!(err.contains(CONNECTIONS) && err.contains(&dir.display().to_string()), "{err}");
        let err = config.mapping(Path::new("config/mappings/sap-b1.json")).unwrap_err();
        assert!(err.contains("mappings/sap-b1.json"), "{err}");
    }

    #[test]
    fn a_given_file_is_read_instead_of_the_directory_one() {
        let dir = TestDir::new("config-dir-given");
        let given = dir.join("secrets.json");
        std::fs::write(&given, "given").unwrap();
        assert_eq!(ConfigDir::BuiltIn.read(SECRETS, Some(&given)).unwrap(), "given");
        assert_eq!(ConfigDir::BuiltIn.origin(SECRETS, Some(&given)), given.display().to_string());
    }

    /// Each built-in copy under the name of the file it copies, and every mapping the built-in
    /// connectors name built in too, so a new connector cannot ship without its mapping.
    #[tokio::test]
    async fn the_built_in_files_are_the_repository_config_with_every_mapping() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
        for (name, text) in BUILT_IN {
            assert_eq!(*text, std::fs::read_to_string(repo.join(name)).unwrap(), "{name}");
        }
        let mut shipped: Vec<String> = std::fs::read_dir(repo.join(APPS))
            .unwrap()
            .map(|e| format!("apps/{}", e.unwrap().file_name().to_string_lossy()))
            .collect();
        shipped.sort();
        let built_in: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).filter(|n| n.starts_with("apps/")).collect();
        assert!(!shipped.is_empty());
        assert_eq!(built_in, shipped, "every shipped app definition is built in");
        let local = crate::bridge::LocalConfig { dir: ConfigDir::BuiltIn, connections: None, secrets: None };
        let connectors = local.runtime(&[]).unwrap().connectors;
        assert!(!connectors.connectors.is_empty());
        for (name, connector) in connectors.connectors {
            let orderflow_shared::mapping::MappingRef::File(path) = &connector.mapping_ref else {
                panic!("{name}: a local connector reads its mapping from a file")
            };
            let mapping = ConfigDir::BuiltIn.mapping(path).unwrap();
            assert_eq!(
                mapping.fetch().await.unwrap(),
                std::fs::read_to_string(path.strip_prefix("config").map(|p| repo.join(p)).unwrap()).unwrap(),
                "{name}"
            );
        }
        let err = ConfigDir::BuiltIn.read("webhook-sources.json", None).unwrap_err();
        assert!(err.contains("webhook-sources.json"), "{err}");
    }

    #[test]
    fn a_config_dir_that_is_not_a_directory_is_an_error_naming_it() {
        let missing = std::env::temp_dir().join("orderflow-no-such-config-dir");
        let err = ConfigDir::locate(Some(&missing)).unwrap_err();
        assert!(err.contains(&missing.display().to_string()) && err.contains("no such directory"), "{err}");
    }
}
