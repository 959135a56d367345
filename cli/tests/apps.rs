//! `orderflow apps` as an operator runs it, against a local store in a scratch --state folder:
//! the shipped definitions validate, a corrupted one is refused naming the place, and the
//! lifecycle (put, connect, promote, migrate --percent and --revert, deprecate, env) works on
//! the store `orderflow serve` reads.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use orderflow_shared::apps::bucket;
use orderflow_shared::test_dir::TestDir;
use serde_json::{Value, json};
use time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_orderflow");

fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

/// A folder of the test's own, removed when the test ends, passed or not.
fn scratch(name: &str) -> TestDir {
    TestDir::new(&format!("apps-{name}"))
}

/// `orderflow apps <args> --state <state>`, from the scratch folder (so no config/ there:
/// the built-in configuration seeds the store).
fn apps(state: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("apps")
        .args(args)
        .arg("--state")
        .arg(state)
        .current_dir(state.parent().unwrap())
        .env_remove("APPS_TABLE")
        .output()
        .expect("run orderflow")
}

fn text(output: &Output) -> (String, String) {
    (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// The command's standard output; it must have succeeded.
fn ok(state: &Path, args: &[&str]) -> String {
    let output = apps(state, args);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "apps {args:?} failed:\n{stdout}\n{stderr}");
    stdout
}

/// The command's standard error; it must have failed.
fn refused(state: &Path, args: &[&str]) -> String {
    let output = apps(state, args);
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success(), "apps {args:?} should fail:\n{stdout}");
    assert!(stderr.starts_with("orderflow: "), "{stderr}");
    stderr
}

fn shipped_definitions() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo("config/apps"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

fn day(date: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// The ids in the lines `  <id> (bucket N)` that `migrate` prints.
fn moved(stdout: &str) -> BTreeSet<String> {
    stdout.lines().filter(|l| l.contains("(bucket ")).map(|l| l.split_whitespace().next().unwrap().to_owned()).collect()
}

#[test]
fn every_shipped_definition_and_the_local_connections_validate() {
    let dir = scratch("validate");
    let state = dir.join("state");
    let files = shipped_definitions();
    assert!(!files.is_empty(), "config/apps/ ships definitions");
    let mut args: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.push(repo("config/connections.local.json").display().to_string());
    args.insert(0, "validate".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let stdout = ok(&state, &args);
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy();
        assert!(stdout.contains(&format!("valid ({name})")), "{name}:\n{stdout}");
    }
    assert!(stdout.contains("acme-partner"), "{stdout}");
    assert!(!state.exists(), "validating writes nothing");
}

#[test]
fn a_corrupted_definition_or_connection_is_refused_naming_the_place() {
    let dir = scratch("corrupted");
    let state = dir.join("state");
    let original: Value =
        serde_json::from_str(&std::fs::read_to_string(repo("config/apps/shopify@1.0.0.json")).unwrap()).unwrap();
    let write = |name: &str, value: &Value| {
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
        path.display().to_string()
    };

    // A wrong type deep inside the document: the schema names it.
    let mut wrong_type = original.clone();
    wrong_type["properties"][1]["required"] = json!("yes");
    let file = write("wrong-type.json", &wrong_type);
    let err = refused(&state, &["validate", &file]);
    assert!(err.contains(&file) && err.contains("shopify@1.0.0: properties[1].required"), "{err}");

    // A placeholder naming nothing declared, deep in a configuration template.
    let mut undeclared = original.clone();
    undeclared["triggers"]["webhook"]["config"]["seller_name"] = json!("{{property.nickname}}");
    let file = write("undeclared.json", &undeclared);
    let err = refused(&state, &["validate", &file]);
    assert!(err.contains("shopify@1.0.0: triggers.webhook.config.seller_name") && err.contains("nickname"), "{err}");

    // An operation the shop does not perform.
    let mut operation = original.clone();
    operation["actions"]["shop"]["operations"][0]["name"] = json!("teleport");
    let file = write("operation.json", &operation);
    let err = refused(&state, &["validate", &file]);
    assert!(err.contains("actions.shop.operations[0].name") && err.contains("teleport"), "{err}");

    // Not JSON: the line.
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\n  \"key\": \"shopify\",\n  \"version\": 1.0.0\n}").unwrap();
    let err = refused(&state, &["validate", &broken.display().to_string()]);
    assert!(err.contains("line 3"), "{err}");

    // A connection whose property does not match its pattern, in a file of connections.
    let mut connections: Value =
        serde_json::from_str(&std::fs::read_to_string(repo("config/connections.local.json")).unwrap()).unwrap();
    let index = connections["connections"].as_array().unwrap().iter().position(|c| c["app"] == "shopify").unwrap();
    connections["connections"][index]["properties"]["shop_url"] = json!("ftp://acme");
    let file = write("connections.json", &connections);
    let err = refused(&state, &["validate", &file]);
    assert!(err.contains(&format!("connections[{index}]")) && err.contains("properties.shop_url"), "{err}");
    assert!(err.contains("ftp://acme"), "{err}");

    // Put refuses it as validate does, and saves nothing.
    let err = refused(&state, &["put", &write("wrong-type-2.json", &wrong_type)]);
    assert!(err.contains("properties[1].required"), "{err}");
}

/// standard-webhooks 1.1.0: 1.0.0 with a `region` environment value.
fn next_version(dir: &Path) -> String {
    let mut definition: Value =
        serde_json::from_str(&std::fs::read_to_string(repo("config/apps/standard-webhooks@1.0.0.json")).unwrap())
            .unwrap();
    definition["version"] = json!("1.1.0");
    definition["env"] = json!([{ "name": "region", "description": "Where the sender posts from", "default": "eu" }]);
    let path = dir.join("standard-webhooks@1.1.0.json");
    std::fs::write(&path, serde_json::to_string_pretty(&definition).unwrap()).unwrap();
    path.display().to_string()
}

/// `count` standard-webhooks connections on 1.0.0.
fn connections(dir: &Path, count: usize) -> (String, Vec<String>) {
    let ids: Vec<String> = (0..count).map(|i| format!("client-{i:03}")).collect();
    let entries: Vec<Value> = ids
        .iter()
        .map(|id| {
            json!({ "id": id, "app": "standard-webhooks", "version": "1.0.0", "production": false,
                    "properties": { "seller_name": format!("Seller {id}"), "seller_id": "76123456-7" },
                    "secrets": { "webhook_secret": format!("ssm:/orderflow/{id}/webhook") } })
        })
        .collect();
    let path = dir.join("clients.json");
    std::fs::write(&path, serde_json::to_string_pretty(&json!({ "connections": entries })).unwrap()).unwrap();
    (path.display().to_string(), ids)
}

#[test]
fn the_lifecycle_of_a_version_on_the_local_store() {
    let dir = scratch("lifecycle");
    let state = dir.join("state");

    // The seed: the shipped apps and the local connections.
    let listed = ok(&state, &["list"]);
    assert!(listed.contains("partner-rest") && listed.contains("acme-partner"), "{listed}");
    assert!(state.join("apps.json").is_file(), "the file serve reads");

    let stdout = ok(&state, &["put", &next_version(&dir)]);
    assert!(stdout.contains("standard-webhooks@1.1.0: published"), "{stdout}");
    let (file, ids) = connections(&dir, 120);
    let stdout = ok(&state, &["connect", &file]);
    assert!(stdout.contains("connection client-119 added: standard-webhooks@1.0.0"), "{stdout}");

    // promote: the default changes, nothing moves.
    ok(&state, &["promote", "standard-webhooks", "1.1.0"]);
    let listed = ok(&state, &["list"]);
    let line = listed.lines().find(|l| l.trim_start().starts_with("1.1.0") && l.contains("default")).unwrap_or("");
    assert!(line.contains("0 connection(s)"), "{listed}");

    // migrate 10 %: the connections whose bucket is below 10, the same on a dry run and again.
    let expected: BTreeSet<String> = ids.iter().filter(|id| bucket(id) < 10).cloned().collect();
    assert!(!expected.is_empty());
    let args = ["migrate", "standard-webhooks", "1.0.0", "1.1.0", "--percent", "10"];
    let dry = ok(&state, &[&args[..], &["--dry-run"]].concat());
    assert!(dry.contains("would move"), "{dry}");
    assert_eq!(moved(&dry), expected);
    let first = ok(&state, &args);
    assert_eq!(moved(&first), expected);
    assert!(ok(&state, &args).starts_with("0 connection(s) moved"));
    let twenty = ok(&state, &["migrate", "standard-webhooks", "1.0.0", "1.1.0", "--percent", "20"]);
    let on_new: BTreeSet<String> = expected.union(&moved(&twenty)).cloned().collect();
    assert!(moved(&twenty).iter().all(|id| (10..20).contains(&bucket(id))), "{twenty}");
    let shown = ok(&state, &["show", "standard-webhooks"]);
    let connections_line = shown.lines().skip_while(|l| !l.trim_start().starts_with("1.1.0")).nth(3).unwrap();
    for id in &on_new {
        assert!(connections_line.contains(id.as_str()), "{id}: {shown}");
    }

    // revert: exactly those back.
    let reverted = ok(&state, &["migrate", "standard-webhooks", "1.0.0", "1.1.0", "--revert"]);
    assert_eq!(moved(&reverted), on_new);
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(state.join("apps.json")).unwrap()).unwrap();
    let on =
        |version: &str| stored["connections"].as_array().unwrap().iter().filter(|c| c["version"] == version).count();
    assert_eq!(on("1.1.0"), 0);
    assert!(stored["connections"].as_array().unwrap().iter().all(|c| c.get("migrated_from").is_none()));

    // A migration to a version needing a property the connection lacks: refused, naming it.
    let err = refused(&state, &["migrate", "partner-rest", "1.0.0", "2.0.0"]);
    assert!(err.contains("nothing moved") && err.contains("acme-partner") && err.contains("buyer_scheme"), "{err}");

    // deprecate: 20 days ahead refused, 21 accepted, the default refused; list names the connections.
    let err = refused(&state, &["deprecate", "standard-webhooks", "1.0.0", "--on", &day(today() + Duration::days(20))]);
    assert!(err.contains("21 days"), "{err}");
    let err = refused(&state, &["deprecate", "standard-webhooks", "1.1.0", "--on", &day(today() + Duration::days(60))]);
    assert!(err.contains("default version"), "{err}");
    let err = refused(&state, &["deprecate", "standard-webhooks", "1.0.0", "--on", "next week"]);
    assert!(err.contains("YYYY-MM-DD"), "{err}");
    let on = day(today() + Duration::days(21));
    ok(&state, &["deprecate", "standard-webhooks", "1.0.0", "--on", &on]);
    let listed = ok(&state, &["list"]);
    let line = listed.lines().skip_while(|l| !l.contains(&format!("deprecated on {on}"))).nth(1).unwrap_or_default();
    assert!(line.contains(&format!("to migrate before {on}: ")), "{listed}");
    let named: BTreeSet<&str> = line.split(": ").nth(1).unwrap().split(", ").collect();
    assert!(named.contains("client-000") && named.contains("client-119") && named.contains("standard"), "{listed}");
    assert_eq!(named.len(), 121, "{listed}");
    let err = refused(&state, &["promote", "standard-webhooks", "1.0.0"]);
    assert!(err.contains("deprecated"), "{err}");

    // env: a version production connections run needs --force.
    ok(&state, &["migrate", "standard-webhooks", "1.0.0", "1.1.0", "--percent", "10"]);
    let live = dir.join("live.json");
    std::fs::write(
        &live,
        json!({ "id": "live-shop", "app": "standard-webhooks", "version": "1.1.0", "production": true,
                "properties": { "seller_name": "Live SpA", "seller_id": "1-9" },
                "secrets": { "webhook_secret": "ssm:/orderflow/live/webhook" } })
        .to_string(),
    )
    .unwrap();
    ok(&state, &["connect", &live.display().to_string()]);
    assert!(ok(&state, &["env", "get", "standard-webhooks", "1.1.0"]).contains("region = eu (default)"));
    let err = refused(&state, &["env", "set", "standard-webhooks", "1.1.0", "region", "us"]);
    assert!(err.contains("live-shop") && err.contains("--force"), "{err}");
    ok(&state, &["env", "set", "standard-webhooks", "1.1.0", "region", "us", "--force"]);
    assert!(ok(&state, &["env", "get", "standard-webhooks", "1.1.0"]).contains("region = us\n"));
    let err = refused(&state, &["env", "unset", "standard-webhooks", "1.1.0", "region"]);
    assert!(err.contains("--force"), "{err}");
    ok(&state, &["env", "unset", "standard-webhooks", "1.1.0", "region", "--force"]);
    assert!(ok(&state, &["env", "get", "standard-webhooks", "1.1.0"]).contains("region = eu (default)"));

    // show --connection: the connection and the webhook source it renders into.
    let shown = ok(&state, &["show", "--connection", "live-shop"]);
    assert!(shown.contains("webhook:") && shown.contains("\"secret_ref\": \"ssm:/orderflow/live/webhook\""), "{shown}");
    let definition = ok(&state, &["show", "standard-webhooks@1.1.0"]);
    assert_eq!(serde_json::from_str::<Value>(&definition).unwrap()["version"], "1.1.0");
}

#[test]
fn aws_without_a_table_is_one_clear_error() {
    let dir = scratch("aws");
    let err = refused(&dir.join("state"), &["list", "--aws"]);
    assert!(err.contains("--table") && err.lines().count() == 1, "{err}");
}
