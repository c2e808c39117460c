//! Declarative config: `GET /v1/config` exports APIs, products and plans; `PUT /v1/config`
//! applies a document as an idempotent upsert matched by name. Everything is checked first and
//! every problem reported at once; then all writes go in one transaction, so a config is
//! applied entirely or not at all. Nothing absent from the document is deleted.

use std::collections::HashMap;

use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::Json;
use gatehouse_core::audience::Audience;
use gatehouse_core::ids::IdKind;
use gatehouse_core::lifecycle::Lifecycle;
use gatehouse_core::limits::LimitPolicy;
use gatehouse_core::model::Access;
use gatehouse_core::model::{Api, AuthSettings, Organisation, Plan, Product, ProductItem, UpstreamSettings};
use gatehouse_core::openapi::diff::diff;
use gatehouse_core::problem::ProblemKind;
use gatehouse_core::store::{Entity, Repo, Write};
use gatehouse_core::time::UnixMillis;

use super::apis::{apply_document, import_or_errors, placement_errors, OpenApiSource};
use super::config_doc::{export, ApiConfig, ApplyReport, ConfigDocument, Counts, OrganisationConfig, ProductConfig};
use super::config_shape::{self, Readable};
use super::{revisions, route, validate, Route};
use crate::auth::Actor;
use crate::error::{AdminError, FieldError};
use crate::extract::{parse_json, read_body, QueryParams};
use crate::organisations;
use crate::publisher::{Change, ChangeOp, Publisher};
use crate::state::{fresh_id, AdminState};

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![
        route(Method::GET, "/v1/config", Access::Read, get::<R, P>),
        route(Method::PUT, "/v1/config", Access::Catalog, put::<R, P>),
    ]
}

async fn get<R: Repo, P: Publisher>(State(s): State<AdminState<R, P>>) -> Result<Json<ConfigDocument>, AdminError> {
    let (apis, products, plans) = (s.repo.list(None).await?, s.repo.list(None).await?, s.repo.list(None).await?);
    Ok(Json(export(&apis, &products, &plans, &s.repo.list(None).await?)))
}

/// Reads the document as JSON, or as YAML when the content type says so: the entries that
/// can be checked further, and the problems of shape.
async fn read_document<R, P>(
    s: &AdminState<R, P>,
    request: Request,
) -> Result<(Readable, Vec<FieldError>), AdminError> {
    let media = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/json");
    let media = media.split(';').next().unwrap_or_default().trim().to_lowercase();
    let yaml = media.ends_with("yaml");
    if !yaml && media != "application/json" && !media.ends_with("+json") {
        return Err(AdminError::problem(
            ProblemKind::UnsupportedMediaType,
            "send application/json or application/yaml",
        ));
    }
    let bytes = read_body(request, s.settings.max_body_bytes).await?;
    let value: serde_json::Value = if yaml {
        // Refuses a key given twice, where reading straight into JSON would let the last win.
        crate::strict_json::from_yaml_slice(&bytes)
            .map_err(|e| AdminError::problem(ProblemKind::BadRequest, format!("the body is not valid YAML: {e}")))?
    } else {
        parse_json(&bytes)?
    };
    Ok(match config_shape::typed(&value) {
        Ok(doc) => (Readable::whole(doc), Vec::new()),
        Err(problems) => (Readable::entries_of(&value, &problems), problems),
    })
}

/// The writes a document needs, the problems found, and the counts to report.
#[derive(Default)]
struct Batch {
    writes: Vec<Write>,
    changes: Vec<Change>,
    errors: Vec<FieldError>,
    report: ApplyReport,
    /// Stored APIs whose document the config replaces: each becomes a revision, checked for
    /// breaking changes first ([`revisions::breaking::guard`]).
    reimports: Vec<(Api, Api)>,
}

impl Batch {
    fn error(&mut self, pointer: String, message: impl Into<String>) {
        self.errors.push(FieldError::new(pointer, message));
    }

    fn errors_at(&mut self, at: &str, errors: Vec<FieldError>) {
        self.errors.extend(errors.into_iter().map(|e| FieldError::new(format!("{at}{}", e.pointer), e.message)));
    }

    /// Inserts, updates or leaves `after`, comparing it with what is stored.
    fn record<E: Entity + PartialEq>(
        &mut self,
        before: Option<&E>,
        after: E,
        counts: fn(&mut ApplyReport) -> &mut Counts,
    ) -> Result<(), AdminError> {
        let (write, op, count) = match before {
            Some(b) if *b == after => {
                counts(&mut self.report).unchanged += 1;
                return Ok(());
            }
            Some(_) => (Write::update(&after)?, ChangeOp::Updated, &mut counts(&mut self.report).updated),
            None => (Write::insert(&after)?, ChangeOp::Created, &mut counts(&mut self.report).created),
        };
        *count += 1;
        self.writes.push(write);
        self.changes.push(Change::of(&after, op));
        Ok(())
    }
}

/// The one stored record named `name`, or `Err` when several share it (matching is by name).
fn named<'a, T>(items: &'a [T], name: &str, name_of: fn(&T) -> &str) -> Result<Option<&'a T>, ()> {
    let mut found = items.iter().filter(|t| name_of(t) == name);
    match (found.next(), found.next()) {
        (Some(_), Some(_)) => Err(()),
        (first, _) => Ok(first),
    }
}

fn draft_api(now: UnixMillis, c: &ApiConfig) -> Result<Api, AdminError> {
    Ok(Api {
        id: fresh_id(IdKind::Api)?,
        name: c.name.clone(),
        version: String::new(),
        base_path: String::new(),
        hosts: Vec::new(),
        upstream: c.upstream.clone().unwrap_or_default(),
        auth: AuthSettings::default(),
        cache: c.cache.clone(),
        lifecycle: Lifecycle::Draft,
        operations: Vec::new(),
        openapi: serde_json::Value::Null,
        import_report: Vec::new(),
        client_networks: Vec::new(),
        versioning: None,
        validation: Default::default(),
        created_at: now,
        updated_at: now,
    })
}

/// Plans the APIs; returns API ids by name (stored and new) for the products to refer to.
fn plan_apis(
    doc: &[(usize, ApiConfig)],
    stored: &[Api],
    now: UnixMillis,
    b: &mut Batch,
) -> Result<HashMap<String, String>, AdminError> {
    let mut ids: HashMap<String, String> = stored.iter().map(|a| (a.name.clone(), a.id.clone())).collect();
    for (n, (i, c)) in doc.iter().enumerate() {
        let at = format!("/apis/{i}");
        let Ok(before) = named(stored, &c.name, |a| &a.name) else {
            b.error(format!("{at}/name"), "several stored APIs have this name; rename them first");
            continue;
        };
        if doc[..n].iter().any(|(_, o)| o.name == c.name) {
            b.error(format!("{at}/name"), "this name appears twice in the document");
            continue;
        }
        let source = match &c.openapi {
            serde_json::Value::String(text) => OpenApiSource::Text(text.clone()),
            value => OpenApiSource::Document(value.clone()),
        };
        let mut api = match before {
            Some(api) => api.clone(),
            None => draft_api(now, c)?,
        };
        (api.base_path, api.hosts) = (c.base_path.clone(), validate::normal_hosts(&c.hosts));
        (api.upstream, api.cache) = (c.upstream.clone().unwrap_or_default(), c.cache.clone());
        // Known by name even if its document is refused, so products naming it add no noise.
        ids.insert(c.name.clone(), api.id.clone());
        let imported = match import_or_errors(&source) {
            Ok(imported) => imported,
            Err(errors) => {
                // Every problem at once: the document's, and where the API is mounted.
                b.errors_at(&format!("{at}/openapi"), errors);
                b.errors_at(&at, placement_errors(&api));
                continue;
            }
        };
        if let (None, Some(url)) = (&c.upstream, &imported.default_upstream) {
            api.upstream = UpstreamSettings { url: url.clone(), ..UpstreamSettings::default() };
        }
        apply_document(&mut api, imported, c.auth.clone());
        api.client_networks.clone_from(&c.client_networks);
        api.versioning.clone_from(&c.versioning);
        api.validation.clone_from(&c.validation);
        b.errors_at(&at, placement_errors(&api));
        if before.is_some_and(|stored| *stored != api) {
            api.updated_at = now;
        }
        match before {
            Some(stored) if stored.openapi != api.openapi => b.reimports.push((stored.clone(), api.clone())),
            Some(_) => {}
            None => b.writes.push(Write::insert(&revisions::record::first(&api, "", now))?),
        }
        b.record(before, api, |r| &mut r.apis)?;
    }
    Ok(ids)
}

fn plan_products(
    doc: &[(usize, ProductConfig)],
    stored: &[Product],
    plans: &[Plan],
    api_ids: &HashMap<String, String>,
    now: UnixMillis,
    b: &mut Batch,
) -> Result<(), AdminError> {
    for (i, c) in doc {
        let at = format!("/products/{i}");
        let Ok(before) = named(stored, &c.name, |p| &p.name) else {
            b.error(format!("{at}/name"), "several stored products have this name; rename them first");
            continue;
        };
        let mut items = Vec::new();
        for (j, item) in c.apis.iter().enumerate() {
            match api_ids.get(&item.api) {
                Some(id) => items.push(ProductItem { api_id: id.clone(), operations: item.operations.clone() }),
                None => b.error(format!("{at}/apis/{j}/api"), format!("no API named {}", item.api)),
            }
        }
        let mut product = match before {
            Some(p) => p.clone(),
            None => Product {
                id: fresh_id(IdKind::Product)?,
                name: c.name.clone(),
                description: String::new(),
                items: Vec::new(),
                audience: Audience::default(),
                created_at: now,
            },
        };
        if let Some(problem) = c.audience.problem() {
            b.error(format!("{at}/audience"), problem);
        }
        (product.description, product.items, product.audience) = (c.description.clone(), items, c.audience.clone());
        let product_id = product.id.clone();
        b.record(before, product, |r| &mut r.products)?;
        let own: Vec<Plan> = plans.iter().filter(|p| p.product_id == product_id).cloned().collect();
        plan_plans(c, &at, &product_id, &own, now, b)?;
    }
    Ok(())
}

fn plan_plans(
    c: &ProductConfig,
    at: &str,
    product_id: &str,
    stored: &[Plan],
    now: UnixMillis,
    b: &mut Batch,
) -> Result<(), AdminError> {
    for (k, pc) in c.plans.iter().enumerate() {
        let at = format!("{at}/plans/{k}");
        let Ok(before) = named(stored, &pc.name, |p| &p.name) else {
            b.error(format!("{at}/name"), "several stored plans of this product have this name");
            continue;
        };
        let limits: Vec<LimitPolicy> = pc.limits.iter().map(|l| l.0.clone()).collect();
        let mut errors = Vec::new();
        validate::limits(&limits, "/limits", &mut errors);
        b.errors_at(&at, errors);
        let mut plan = match before {
            Some(p) => p.clone(),
            None => Plan {
                id: fresh_id(IdKind::Plan)?,
                product_id: product_id.to_owned(),
                name: pc.name.clone(),
                limits: Vec::new(),
                scopes: Vec::new(),
                requires_approval: false,
                classes: vec![],
                created_at: now,
            },
        };
        (plan.limits, plan.scopes, plan.requires_approval) = (limits, pc.scopes.clone(), pc.requires_approval);
        b.record(before, plan, |r| &mut r.plans)?;
    }
    Ok(())
}

/// Organisations by name (compared without case, as their unique names are).
fn plan_organisations(
    doc: &[(usize, OrganisationConfig)],
    stored: &[Organisation],
    now: UnixMillis,
    b: &mut Batch,
) -> Result<(), AdminError> {
    for (n, (i, c)) in doc.iter().enumerate() {
        let at = format!("/organisations/{i}");
        let same = |name: &str| name.trim().eq_ignore_ascii_case(c.name.trim());
        if doc[..n].iter().any(|(_, o)| same(&o.name)) {
            b.error(format!("{at}/name"), "this name appears twice in the document");
            continue;
        }
        let before = stored.iter().find(|o| same(&o.name));
        let mut org = match before {
            Some(o) => o.clone(),
            None => {
                Organisation { id: fresh_id(IdKind::Organisation)?, name: String::new(), tier: None, created_at: now }
            }
        };
        (org.name, org.tier) = (c.name.trim().to_owned(), c.tier.clone());
        let problems = organisations::problems(&org);
        if !problems.is_empty() {
            b.errors_at(&at, problems);
            continue;
        }
        b.record(before, org, |r| &mut r.organisations)?;
    }
    Ok(())
}

/// Checks each re-imported document against the live one (409 on the first that breaks
/// callers, unless forced) and adds its revision records to the batch.
async fn revise<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    force: bool,
    now: UnixMillis,
    b: &mut Batch,
) -> Result<(), AdminError> {
    for (stored, next) in std::mem::take(&mut b.reimports) {
        let existing = revisions::record::all(s, &stored.id).await?;
        let changes = diff(&stored.openapi, &next.openapi);
        let number = existing.iter().map(|r| r.number).max().unwrap_or(1) + 1;
        revisions::breaking::guard(s, &stored, number, &changes, force).await?;
        let forced = force && changes.is_breaking();
        let next = revisions::record::Next {
            openapi: next.openapi,
            version: next.version,
            note: None,
            diff: changes,
            published: true,
            forced,
        };
        for revision in revisions::record::next(&stored, &existing, next, &actor.name, now) {
            b.writes.push(Write::insert(&revision)?);
        }
    }
    Ok(())
}

async fn put<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    QueryParams(q): QueryParams<revisions::ForceQuery>,
    request: Request,
) -> Result<Json<ApplyReport>, AdminError> {
    let (doc, mut problems) = read_document(&s, request).await?;
    let (apis, products, plans) = (s.repo.list(None).await?, s.repo.list(None).await?, s.repo.list(None).await?);
    let now = s.now();
    let mut batch = Batch::default();
    let mut api_ids = plan_apis(&doc.apis, &apis, now, &mut batch)?;
    for name in doc.unread_api_names {
        api_ids.entry(name).or_default();
    }
    plan_products(&doc.products, &products, &plans, &api_ids, now, &mut batch)?;
    plan_organisations(&doc.organisations, &s.repo.list(None).await?, now, &mut batch)?;
    problems.append(&mut batch.errors);
    AdminError::check(problems)?;
    revise(&s, &actor, q.force, now, &mut batch).await?;
    if !batch.writes.is_empty() {
        s.commit(&actor, "config.apply", batch.writes, batch.changes).await?;
    }
    Ok(Json(batch.report))
}
