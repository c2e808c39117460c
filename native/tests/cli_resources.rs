//! The CLI covers every admin resource against a running `gatehouse dev`: developers, apps,
//! products, plans, subscriptions (with approval), keys, APIs and usage, each printed as a
//! table, JSON or YAML; a refusal is one line on stderr and a non-zero exit. Then who calls
//! an API, a developer's export and the closing of their account; and organisations.
#![allow(clippy::unwrap_used)]

#[path = "support/dev_process.rs"]
mod dev_process;

use dev_process::Dev;
use serde_json::{json, Value};

fn id(ran: &dev_process::Ran) -> String {
    ran.json()["id"].as_str().unwrap().to_string()
}

/// The first column of the table's second line: the first row's id.
fn first_id(table: &str) -> &str {
    table.lines().nth(1).and_then(|l| l.split_whitespace().next()).unwrap_or("")
}

fn gateway_status(dev: &Dev, path: &str, key: &str) -> u16 {
    let out = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", &format!("X-API-Key: {key}")])
        .arg(format!("{}{path}", dev.gateway))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).parse().unwrap_or(0)
}

#[test]
fn cli_manages_developers_apps_products_plans_subscriptions_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&dir.path().join("data"));

    // Developers: create, get, update only what is named, list as a table.
    let grace = id(&dev.ok(&["developers", "create", "--email", "grace@example.com", "--name", "Grace", "-o", "json"]));
    let updated = dev.ok(&["developers", "update", &grace, "--group", "partners", "-o", "json"]).json();
    assert_eq!((updated["group"].as_str(), updated["name"].as_str()), (Some("partners"), Some("Grace")));
    let shown: Value = serde_yaml_ng::from_str(&dev.ok(&["developers", "get", &grace, "-o", "yaml"]).stdout).unwrap();
    assert_eq!(shown["email"], "grace@example.com");
    let table = dev.ok(&["developers", "list"]).stdout;
    assert!(table.starts_with("ID ") && table.contains(&grace) && table.contains("partners"), "{table}");
    assert!(dev.fails(&["developers", "update", &grace]).contains("nothing to change"));
    assert!(dev
        .fails(&["developers", "create", "--email", "GRACE@example.com", "--name", "G2"])
        .to_lowercase()
        .contains("conflict"));

    // Apps: a developer's app, renamed; listed for that developer.
    let app = id(&dev.ok(&["apps", "create", "--developer", &grace, "--name", "Mobile", "-o", "json"]));
    dev.ok(&["apps", "update", &app, "--name", "Mobile app"]);
    let apps = dev.ok(&["apps", "list", "--developer", &grace]).stdout;
    assert_eq!(first_id(&apps), app, "{apps}");
    assert!(apps.contains("Mobile app"), "{apps}");

    // An API to sell: the demo API, published.
    let apis = dev.ok(&["apis", "list", "-o", "json"]).json();
    let demo = apis["items"][0]["id"].as_str().unwrap().to_string();
    let published = dev.ok(&["apis", "get", &demo]).stdout;
    assert!(published.contains("published"), "the demo API is live: {published}");

    // Products and plans: a plan that needs approval, limits given as YAML.
    let product =
        id(&dev.ok(&["products", "create", "--name", "Demo Gold", "--api", &format!("{demo}:getHello"), "-o", "json"]));
    let limits = "[{name: burst, scope: app, type: rate, limit: 5, period_secs: 1, burst: 10}]";
    let gold = dev.ok(&["plans", "create", "--product", &product, "--name", "gold", "--limits", limits]);
    let gold = first_id(&gold.stdout).to_string();
    let spare = id(&dev.ok(&["plans", "create", "--product", &product, "--name", "spare", "-o", "json"]));
    dev.ok(&["plans", "update", &gold, "--requires-approval", "true", "--scopes", "read,write"]);
    let plan = dev.ok(&["plans", "get", &gold, "-o", "json"]).json();
    assert_eq!(plan["requires_approval"], true);
    assert_eq!(plan["scopes"], serde_json::json!(["read", "write"]));
    assert_eq!(plan["limits"][0]["name"], "burst");
    let plans = dev.ok(&["plans", "list", "--product", &product]).stdout;
    assert!(plans.contains("required") && plans.contains("burst"), "{plans}");

    // Subscriptions: pending until approved; the key works only then.
    let sub = dev.ok(&["subscriptions", "create", "--app", &app, "--product", &product, "--plan", &gold, "-o", "json"]);
    assert_eq!(sub.json()["status"], "pending");
    let sub = id(&sub);
    let secret = dev.ok(&["keys", "create", "--app", &app, "--name", "laptop"]).stdout.trim().to_string();
    assert!(secret.starts_with("gh_live_"), "{secret}");
    assert_eq!(gateway_status(&dev, "/demo/hello", &secret), 403, "a pending subscription grants nothing");
    let approved = dev.ok(&["subscriptions", "approve", &sub]).stdout;
    assert!(approved.contains("active"), "{approved}");
    assert_eq!(gateway_status(&dev, "/demo/hello", &secret), 200);
    assert_eq!(gateway_status(&dev, "/demo/catalog", &secret), 403, "the product holds only `getHello`");
    // Rejected (with a reason the developer sees): the gateway refuses on the next call.
    assert!(dev.fails(&["subscriptions", "reject", &sub, "--reason", " "]).contains("/reason"));
    let rejected = dev.ok(&["subscriptions", "reject", &sub, "--reason", "Partners only", "-o", "json"]).json();
    assert_eq!(
        (rejected["status"].as_str(), rejected["rejection"]["reason"].as_str()),
        (Some("rejected"), Some("Partners only"))
    );
    assert!(dev.ok(&["subscriptions", "get", &sub]).stdout.contains("Partners only"));
    assert_eq!(gateway_status(&dev, "/demo/hello", &secret), 403, "a rejected subscription grants nothing");
    dev.ok(&["subscriptions", "approve", &sub]);
    assert_eq!(gateway_status(&dev, "/demo/hello", &secret), 200);
    let listed = dev.ok(&["subscriptions", "list", "--app", &app]).stdout;
    assert_eq!(first_id(&listed), sub, "{listed}");
    let moved = dev.ok(&["subscriptions", "update", &sub, "--plan", &spare, "-o", "json"]).json();
    assert_eq!((moved["plan_id"].as_str(), moved["status"].as_str()), (Some(spare.as_str()), Some("active")));
    assert_eq!(dev.ok(&["subscriptions", "get", &sub, "-o", "json"]).json()["plan_id"], spare.as_str());

    // Keys: get, disable, enable; a listing never shows the secret.
    let keys = dev.ok(&["keys", "list", "--app", &app]).stdout;
    let key = first_id(&keys).to_string();
    assert!(key.starts_with("key_") && !keys.contains(&secret), "{keys}");
    dev.ok(&["keys", "disable", &key]);
    assert_eq!(gateway_status(&dev, "/demo/hello", &secret), 401);
    let enabled = dev.ok(&["keys", "enable", &key, "-o", "json"]).json();
    assert_eq!(enabled["status"], "active");
    assert!(!enabled.to_string().contains(&secret));
    assert_eq!(gateway_status(&dev, "/demo/hello", &secret), 200);
    let rotated = dev.ok(&["keys", "rotate", &key, "--grace-secs", "0", "-o", "json"]).json();
    assert!(rotated["secret"].as_str().unwrap().starts_with("gh_live_"));
    assert_eq!(dev.ok(&["keys", "get", &key, "-o", "json"]).json()["replaced_by"], rotated["key"]["id"]);

    // Deletes: refused while in use (one line, non-zero), done when not.
    assert!(dev.fails(&["products", "delete", &product]).contains("subscribe"));
    assert!(dev.fails(&["plans", "delete", &spare]).contains("subscribe"));
    assert_eq!(dev.ok(&["plans", "delete", &gold]).stdout.trim(), format!("deleted {gold}"));
    assert!(dev.fails(&["plans", "get", &gold]).contains(&format!("no plan with id {gold}")));

    // Usage: the table's total and the same report as JSON.
    let usage = dev.ok(&["usage", "--group-by", "total", "--app-id", &app, "-o", "json"]).json();
    assert_eq!(usage["query"]["app_id"], app.as_str());
    assert!(usage["items"].is_array());
    let table = dev.ok(&["usage", "--group-by", "total"]).stdout;
    assert!(table.starts_with("PERIOD "), "{table}");

    // Who calls the demo API: Grace's app, among others (usage is flushed every second).
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let callers = dev.ok(&["apis", "callers", &demo, "--days", "1"]).stdout;
    assert!(callers.starts_with("DEVELOPER ") && callers.contains("grace@example.com"), "{callers}");
    assert!(dev.fails(&["apis", "callers", &demo, "--days", "0"]).contains("/days"));
    // The same usage broken down by app: a table with a GROUP column, and the API's CSV.
    let by_app = dev.ok(&["usage", "--group-by", "total", "--by", "app"]).stdout;
    assert!(by_app.starts_with("PERIOD ") && by_app.lines().next().unwrap().contains(" GROUP "), "{by_app}");
    assert!(by_app.contains(&app), "{by_app}");
    let csv = dev.ok(&["usage", "--group-by", "total", "--by", "app", "-o", "csv"]).stdout;
    assert!(csv.starts_with("period,app,requests,status_1xx,"), "{csv}");
    assert!(csv.lines().any(|line| line.starts_with(&format!("total,{app},"))), "{csv}");
    let keys_csv = dev.ok(&["keys", "list", "--app", &app, "-o", "csv"]).stdout;
    assert!(keys_csv.lines().count() >= 2 && !keys_csv.contains(&secret), "{keys_csv}");

    // Her data, then her account closed: the key she still holds is refused at once.
    let new_key = dev.ok(&["keys", "create", "--app", &app, "--name", "last"]).stdout.trim().to_string();
    assert_eq!(gateway_status(&dev, "/demo/hello", &new_key), 200);
    let export = dev.ok(&["developers", "export", &grace]).json();
    assert_eq!(
        (export["developer"]["email"].as_str(), export["apps"][0]["id"].as_str()),
        (Some("grace@example.com"), Some(app.as_str()))
    );
    let closed = dev.ok(&["developers", "close", &grace]).stdout;
    assert!(closed.contains("Closed account") && !closed.contains("grace@example.com"), "{closed}");
    assert_eq!(gateway_status(&dev, "/demo/hello", &new_key), 401);
    dev.stop();
}

#[test]
fn cli_gives_principals_tokens_with_roles_and_reads_the_audit_trail() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&dir.path().join("data"));

    // The dev token is an owner's: it makes a viewer, whose secret alone is on stdout.
    let secret = dev.ok(&["admin-tokens", "create", "--name", "vic", "--role", "viewer"]).stdout.trim().to_string();
    assert!(secret.starts_with("gha_"), "{secret}");
    let tokens = dev.ok(&["admin-tokens", "list"]).stdout;
    assert!(tokens.starts_with("ID ") && tokens.contains("vic") && tokens.contains("viewer"), "{tokens}");
    assert!(!tokens.contains(&secret), "never the secret again");
    assert!(dev.fails(&["admin-tokens", "create", "--name", "d", "--role", "developer"]).contains("/role"));

    // The viewer reads but may not write, and may not list tokens.
    assert!(dev.ok(&["apis", "list", "--token", &secret]).stdout.starts_with("ID "));
    let refused = dev.fails(&["developers", "create", "--email", "x@example.com", "--name", "X", "--token", &secret]);
    assert!(refused.contains("viewer") && refused.contains("owner"), "{refused}");
    assert!(dev.fails(&["admin-tokens", "list", "--token", &secret]).contains("viewer"));

    // The trail, as the viewer: the token's creation, by the dev owner, from this machine.
    let trail = dev.ok(&["audit", "--action", "admin_token.", "--token", &secret, "-o", "json"]).json();
    let entry = &trail["items"][0];
    assert_eq!(
        (&entry["action"], &entry["role"], &entry["from"]),
        (&json!("admin_token.create"), &json!("owner"), &json!("127.0.0.1"))
    );
    let table = dev.ok(&["audit", "--limit", "1", "--token", &secret]);
    assert!(table.stdout.starts_with("AT ") && table.stderr.contains("--cursor"), "{} {}", table.stdout, table.stderr);

    // Revoked with a reason: the token stops working, and the trail says why.
    let id = tokens.lines().nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    dev.ok(&["admin-tokens", "revoke", &id, "--reason", "left the team"]);
    assert!(dev.fails(&["apis", "list", "--token", &secret]).contains("not valid"));
    let revoked = dev.ok(&["audit", "--action", "admin_token.revoke", "-o", "json"]).json();
    assert_eq!(revoked["items"][0]["reason"], "left the team");
    dev.stop();
}

#[test]
fn cli_manages_organisations_their_members_invitations_and_apps() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&dir.path().join("data"));

    let acme = id(&dev.ok(&["organisations", "create", "--name", "Acme", "--tier", "gold", "-o", "json"]));
    assert!(dev.fails(&["organisations", "create", "--name", "ACME"]).contains("already exists"));
    let table = dev.ok(&["organisations", "list"]).stdout;
    assert!(table.starts_with("ID ") && table.contains("Acme") && table.contains("gold"), "{table}");
    let retiered = dev.ok(&["organisations", "update", &acme, "--tier", "silver", "-o", "json"]).json();
    assert_eq!(retiered["tier"], "silver");

    let ada = id(&dev.ok(&["developers", "create", "--email", "ada@acme.example", "--name", "Ada", "-o", "json"]));
    let added = dev.ok(&["organisations", "add-member", &acme, &ada, "--role", "org-admin", "-o", "json"]).json();
    assert_eq!(added["role"], "org-admin");
    let members = dev.ok(&["organisations", "members", &acme]).stdout;
    assert!(members.contains("ada@acme.example") && members.contains("org-admin"), "{members}");

    let invited = dev.ok(&["organisations", "invite", &acme, "--email", "bo@acme.example", "-o", "json"]).json();
    assert_eq!((&invited["email"], &invited["role"]), (&json!("bo@acme.example"), &json!("member")));
    assert!(dev.ok(&["organisations", "apps", &acme]).stdout.lines().count() <= 1, "no apps yet");

    dev.ok(&["organisations", "remove-member", &acme, &ada]);
    assert!(!dev.ok(&["organisations", "members", &acme]).stdout.contains("ada@"));
    let gone = dev.fails(&["organisations", "remove-member", &acme, &ada]);
    assert!(gone.contains("member"), "{gone}");
    dev.stop();
}
