//! Which type each admin route takes and answers, with its statuses: the part of the OpenAPI
//! document the types cannot say themselves. One line per routed (method, path); the test
//! `every_route_is_documented_and_the_document_parses` keeps this table and the router equal.

use axum::http::Method;
use gatehouse_core::model::{Api, App, Developer, Invitation, Membership, Organisation, Plan, Product};
use gatehouse_core::openapi::{LintReport, SensitivityReport};
use gatehouse_core::store::UsageQuery;
use gatehouse_core::usage::UsageBatch;
use serde_json::json;

use super::Doc;
use crate::routes::access_requests::{AccessFilter, Approval, Denial, NewAccessRequest, Revocation};
use crate::routes::account::DeveloperExport;
use crate::routes::admin_tokens::{AdminTokenView, IssuedAdminToken, NewAdminToken, RevokeAdminToken};
use crate::routes::apis::{ApiPatch, LifecycleRequest, NewApi, PurgeRequest, Purged};
use crate::routes::audit::{AuditList, AuditQuery};
use crate::routes::callers::{Callers, CallersQuery};
use crate::routes::catalog::{PlanBody, ProductBody};
use crate::routes::client_certificates::NewClientCertificate;
use crate::routes::config_doc::{ApplyReport, ConfigDocument};
use crate::routes::developers::{AppBody, DeveloperBody};
use crate::routes::ingest::Receipt;
use crate::routes::keys::{IssuedKey, NewKey, RotateRequest};
use crate::routes::lint::LintRequest;
use crate::routes::meta::{Health, OpenApiDocument};
use crate::routes::oauth_clients::NewOAuthClient;
use crate::routes::organisations::{InvitationBody, MemberBody, MemberView, OrgAppBody, OrganisationBody};
use crate::routes::revisions::ForceQuery;
use crate::routes::subscriptions::{NewSubscription, PlanChange, RejectRequest};
use crate::routes::usage::Report;
use crate::views::{AccessRequestView, Items, KeyView, SubscriptionView};

const INGEST: &str =
    "Authenticated by the `gatehouse-signature` header (`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"t.body\">` \
    with the ingest secret), not by the admin token. Idempotent by `batch_id`: a redelivery answers 200 with outcome \
    `duplicate` and adds nothing.";
const SIGNATURE: &str = "gatehouse-signature";

/// Describes every admin operation into `d`.
pub(super) fn describe(d: &mut Doc) {
    admin_tokens(d);
    audit(d);
    apis(d);
    catalog(d);
    config(d);
    developers(d);
    organisations(d);
    keys(d);
    meta(d);
    subscriptions(d);
    access_requests(d);
    usage(d);
}

/// Admin tokens of named principals: the secret only in the answer that creates it.
fn admin_tokens(d: &mut Doc) {
    d.op(Method::GET, "/v1/admin-tokens", "List admin tokens (never secrets or hashes)")
        .ok::<Items<AdminTokenView>>()
        .add();
    d.op(
        Method::POST,
        "/v1/admin-tokens",
        "Create an admin token for a principal with a role; the secret is in this response only",
    )
    .body::<NewAdminToken>()
    .created::<IssuedAdminToken>()
    .tagged()
    .errors(&[409])
    .add();
    d.op(Method::POST, "/v1/admin-tokens/{id}/revoke", "Revoke an admin token (final), with a reason")
        .optional_body::<RevokeAdminToken>()
        .ok::<AdminTokenView>()
        .conditional()
        .errors(&[409])
        .add();
}

/// The audit trail: read only, there is no other method on it.
fn audit(d: &mut Doc) {
    d.op(
        Method::GET,
        "/v1/audit",
        "Audit entries, newest first, filtered and paged (a developer: those about their own records)",
    )
    .query::<AuditQuery>()
    .ok::<AuditList>()
    .add();
}

/// APIs: import, edit, lifecycle, delete, cache purge.
fn apis(d: &mut Doc) {
    d.op(Method::GET, "/v1/apis", "List APIs").ok::<Items<Api>>().add();
    d.op(Method::POST, "/v1/apis", "Import an API from an OpenAPI document (created as draft)")
        .body::<NewApi>()
        .created::<Api>()
        .tagged()
        .errors(&[409])
        .add();
    d.op(Method::POST, "/v1/apis/lint", "Lint an OpenAPI document without importing it (rules: docs/lint.md)")
        .body::<LintRequest>()
        .ok::<LintReport>()
        .without(&[503]) // nothing stored is read
        .add();
    d.op(Method::GET, "/v1/apis/{id}", "Get an API").ok::<Api>().tagged().add();
    d.op(
        Method::PATCH,
        "/v1/apis/{id}",
        "Change upstream, cache, hosts, base path, auth, versioning, or re-import the OpenAPI document (a new \
        revision; refused with 409 breaking-change over a live API unless force=true)",
    )
    .query::<ForceQuery>()
    .body::<ApiPatch>()
    .ok::<Api>()
    .conditional()
    .errors(&[409])
    .add();
    d.op(Method::DELETE, "/v1/apis/{id}", "Delete a draft API").no_content().conditional().errors(&[409]).add();
    d.op(Method::POST, "/v1/apis/{id}/lifecycle", "Publish, deprecate or retire")
        .body::<LifecycleRequest>()
        .ok::<Api>()
        .conditional()
        .errors(&[409])
        .add();
    d.op(Method::GET, "/v1/apis/{id}/callers", "Developers and apps that called the API in the last `days` days")
        .query::<CallersQuery>()
        .ok::<Callers>()
        .add();
    d.op(Method::GET, "/v1/apis/{id}/sensitivity", "Every x-gatehouse-sensitivity annotation of the API's document, with its JSON pointer, and names that look sensitive without one")
        .ok::<SensitivityReport>()
        .add();
    d.op(Method::POST, "/v1/apis/{id}/cache/purge", "Purge cached responses of an API (optionally one tag)")
        .optional_body::<PurgeRequest>()
        .ok::<Purged>()
        .add();
}

/// Products and their plans.
fn catalog(d: &mut Doc) {
    d.op(Method::GET, "/v1/products", "List products").ok::<Items<Product>>().add();
    d.op(Method::POST, "/v1/products", "Create a product")
        .body::<ProductBody>()
        .created::<Product>()
        .tagged()
        .errors(&[409])
        .add();
    d.op(Method::GET, "/v1/products/{id}", "Get a product").ok::<Product>().tagged().add();
    d.op(Method::PATCH, "/v1/products/{id}", "Change a product")
        .body::<ProductBody>()
        .ok::<Product>()
        .conditional()
        .errors(&[409])
        .add();
    d.op(Method::DELETE, "/v1/products/{id}", "Delete a product and its plans (no subscriptions left)")
        .no_content()
        .conditional()
        .errors(&[409])
        .add();
    d.op(Method::GET, "/v1/products/{id}/plans", "List a product's plans").ok::<Items<Plan>>().add();
    d.op(Method::POST, "/v1/plans", "Create a plan").body::<PlanBody>().created::<Plan>().tagged().errors(&[409]).add();
    d.op(Method::GET, "/v1/plans/{id}", "Get a plan").ok::<Plan>().tagged().add();
    d.op(Method::PATCH, "/v1/plans/{id}", "Change a plan")
        .body::<PlanBody>()
        .ok::<Plan>()
        .conditional()
        .errors(&[409])
        .add();
    d.op(Method::DELETE, "/v1/plans/{id}", "Delete a plan (no subscriptions left)")
        .no_content()
        .conditional()
        .errors(&[409])
        .add();
}

/// Declarative config, as JSON or YAML.
fn config(d: &mut Doc) {
    d.op(Method::GET, "/v1/config", "Export APIs, products and plans as a config document")
        .ok::<ConfigDocument>()
        .add();
    d.op(
        Method::PUT,
        "/v1/config",
        "Apply a config document (upsert by name); a changed document is a new revision, refused with 409 \
        breaking-change over a live API unless force=true",
    )
    .query::<ForceQuery>()
    .body_as::<ConfigDocument>(true, &["application/json", "application/yaml"])
    .ok::<ApplyReport>()
    .errors(&[409])
    .add();
}

/// Developers and their apps.
fn developers(d: &mut Doc) {
    d.op(Method::GET, "/v1/developers", "List developers").ok::<Items<Developer>>().add();
    d.op(Method::POST, "/v1/developers", "Create a developer (email unique)")
        .body::<DeveloperBody>()
        .created::<Developer>()
        .tagged()
        .errors(&[409])
        .add();
    d.op(Method::GET, "/v1/developers/{id}", "Get a developer").ok::<Developer>().tagged().add();
    d.op(Method::PATCH, "/v1/developers/{id}", "Change a developer")
        .body::<DeveloperBody>()
        .ok::<Developer>()
        .conditional()
        .errors(&[409])
        .add();
    d.op(Method::GET, "/v1/developers/{id}/export", "Everything held about a developer, as one document (no secrets)")
        .ok::<DeveloperExport>()
        .add();
    d.op(Method::POST, "/v1/developers/{id}/close", "Close the account: revoke every key, erase personal fields")
        .ok::<Developer>()
        .tagged()
        .errors(&[409])
        .add();
    d.op(Method::GET, "/v1/developers/{id}/apps", "List a developer's apps").ok::<Items<App>>().add();
    d.op(Method::POST, "/v1/developers/{id}/apps", "Create an app for a developer")
        .body::<AppBody>()
        .created::<App>()
        .tagged()
        .errors(&[409])
        .add();
    d.op(Method::GET, "/v1/apps", "List apps").ok::<Items<App>>().add();
    d.op(Method::POST, "/v1/apps", "Create an app").body::<AppBody>().created::<App>().tagged().errors(&[409]).add();
    d.op(Method::GET, "/v1/apps/{id}", "Get an app").ok::<App>().tagged().add();
    d.op(Method::PATCH, "/v1/apps/{id}", "Rename an app")
        .body::<AppBody>()
        .ok::<App>()
        .conditional()
        .errors(&[409])
        .add();
}

/// Organisations: their members and roles, invitations by mail, and the apps they own.
fn organisations(d: &mut Doc) {
    d.op(Method::GET, "/v1/organisations", "List organisations").ok::<Items<Organisation>>().add();
    d.op(Method::POST, "/v1/organisations", "Create an organisation (name unique)")
        .body::<OrganisationBody>()
        .created::<Organisation>()
        .tagged()
        .errors(&[409])
        .add();
    d.op(Method::GET, "/v1/organisations/{id}", "Get an organisation").ok::<Organisation>().tagged().add();
    d.op(Method::PATCH, "/v1/organisations/{id}", "Rename an organisation or change its tier")
        .body::<OrganisationBody>()
        .ok::<Organisation>()
        .conditional()
        .errors(&[409])
        .add();
    d.op(Method::GET, "/v1/organisations/{id}/members", "List an organisation's members and roles")
        .ok::<Items<MemberView>>()
        .add();
    d.op(Method::PUT, "/v1/organisations/{id}/members/{developer_id}", "Add a member, or change their role")
        .body::<MemberBody>()
        .ok::<Membership>()
        .errors(&[409])
        .add();
    d.op(
        Method::DELETE,
        "/v1/organisations/{id}/members/{developer_id}",
        "Remove a member (the organisation's apps and keys keep working)",
    )
    .no_content()
    .add();
    d.op(Method::GET, "/v1/organisations/{id}/invitations", "List pending invitations").ok::<Items<Invitation>>().add();
    d.op(Method::POST, "/v1/organisations/{id}/invitations", "Invite someone by email (the link works once)")
        .body::<InvitationBody>()
        .created::<Invitation>()
        .errors(&[409])
        .add();
    d.op(Method::GET, "/v1/organisations/{id}/apps", "List an organisation's apps").ok::<Items<App>>().add();
    d.op(Method::POST, "/v1/organisations/{id}/apps", "Create an app owned by the organisation")
        .body::<OrgAppBody>()
        .created::<App>()
        .tagged()
        .errors(&[409])
        .add();
}

/// Keys: the secret only in the answer that creates it.
fn keys(d: &mut Doc) {
    d.op(Method::GET, "/v1/apps/{id}/keys", "List an app's keys (never secrets or hashes)")
        .ok::<Items<KeyView>>()
        .add();
    d.op(Method::POST, "/v1/apps/{id}/keys", "Issue a key; the secret is in this response only")
        .body::<NewKey>()
        .created::<IssuedKey>()
        .tagged()
        .errors(&[409])
        .add();
    d.op(
        Method::POST,
        "/v1/apps/{id}/oauth-clients",
        "Register an OAuth client: its JWTs then call as this app (listed, disabled and revoked as a key)",
    )
    .body::<NewOAuthClient>()
    .created::<KeyView>()
    .tagged()
    .errors(&[409])
    .add();
    d.op(
        Method::POST,
        "/v1/apps/{id}/client-certificates",
        "Register a client certificate subject (mTLS): calls with that certificate then call as this app",
    )
    .body::<NewClientCertificate>()
    .created::<KeyView>()
    .tagged()
    .errors(&[409])
    .add();
    d.op(Method::GET, "/v1/keys/{id}", "Get a key").ok::<KeyView>().tagged().add();
    d.op(
        Method::POST,
        "/v1/keys/{id}/rotate",
        "Rotate: new key (secret once), old key works until the grace period ends",
    )
    .optional_body::<RotateRequest>()
    .created::<IssuedKey>()
    .conditional()
    .errors(&[409])
    .add();
    d.op(Method::POST, "/v1/keys/{id}/revoke", "Revoke a key (final)")
        .ok::<KeyView>()
        .conditional()
        .errors(&[409])
        .add();
    d.op(Method::POST, "/v1/keys/{id}/disable", "Disable a key").ok::<KeyView>().conditional().errors(&[409]).add();
    d.op(Method::POST, "/v1/keys/{id}/enable", "Enable a disabled key")
        .ok::<KeyView>()
        .conditional()
        .errors(&[409])
        .add();
}

/// Open to anyone, and touching no store.
fn meta(d: &mut Doc) {
    d.op(Method::GET, "/v1/health", "Liveness").ok::<Health>().public().without(&[503]).add();
    d.op(Method::GET, "/v1/openapi.json", "This document")
        .answers::<OpenApiDocument>(200, "This document")
        .public()
        .without(&[503])
        .add();
}

/// Subscriptions of apps to products.
fn subscriptions(d: &mut Doc) {
    d.op(Method::GET, "/v1/apps/{id}/subscriptions", "List an app's subscriptions")
        .ok::<Items<SubscriptionView>>()
        .add();
    d.op(Method::POST, "/v1/apps/{id}/subscriptions", "Subscribe an app to a product under a plan")
        .body::<NewSubscription>()
        .created::<SubscriptionView>()
        .tagged()
        .errors(&[409])
        .add();
    d.op(Method::GET, "/v1/subscriptions/{id}", "Get a subscription").ok::<SubscriptionView>().tagged().add();
    d.op(Method::PATCH, "/v1/subscriptions/{id}", "Change plan (keys stay the same); after a rejection, ask again")
        .body::<PlanChange>()
        .ok::<SubscriptionView>()
        .conditional()
        .errors(&[409])
        .add();
    d.op(Method::POST, "/v1/subscriptions/{id}/approve", "Approve a pending (or rejected) subscription")
        .ok::<SubscriptionView>()
        .conditional()
        .errors(&[409])
        .add();
    d.op(Method::POST, "/v1/subscriptions/{id}/reject", "Reject a pending or active subscription, with a reason")
        .body::<RejectRequest>()
        .ok::<SubscriptionView>()
        .conditional()
        .errors(&[409])
        .add();
}

/// Access requests for sensitivity classes: asked for by developers, decided by approvers.
fn access_requests(d: &mut Doc) {
    d.op(Method::GET, "/v1/access-requests", "List access requests (filter by status, app, API, developer)")
        .query::<AccessFilter>()
        .ok::<Items<AccessRequestView>>()
        .add();
    d.op(Method::POST, "/v1/apps/{id}/access-requests", "Ask for a sensitivity class on an API, for an app")
        .body::<NewAccessRequest>()
        .created::<AccessRequestView>()
        .tagged()
        .errors(&[409])
        .add();
    d.op(Method::GET, "/v1/access-requests/{id}", "Get an access request").ok::<AccessRequestView>().tagged().add();
    d.op(
        Method::POST,
        "/v1/access-requests/{id}/approve",
        "Approve a pending request, for `days` (its wish if left out)",
    )
    .optional_body::<Approval>()
    .ok::<AccessRequestView>()
    .conditional()
    .errors(&[409])
    .add();
    d.op(Method::POST, "/v1/access-requests/{id}/deny", "Deny a pending request, with a reason the developer reads")
        .body::<Denial>()
        .ok::<AccessRequestView>()
        .conditional()
        .errors(&[409])
        .add();
    d.op(Method::POST, "/v1/access-requests/{id}/revoke", "Revoke an approval before it expires")
        .optional_body::<Revocation>()
        .ok::<AccessRequestView>()
        .conditional()
        .errors(&[409])
        .add();
}

/// Usage reports and the edge's signed ingest.
fn usage(d: &mut Doc) {
    d.op(Method::GET, "/v1/usage", "Usage report, over time and broken down by API, operation, key, app or developer")
        .query::<UsageQuery>()
        .ok::<Report>()
        .add();
    d.op(Method::GET, "/v1/usage/export.csv", "The same usage report as CSV, one line per row")
        .query::<UsageQuery>()
        .ok_csv("A header line, then one line per row of the report")
        .add();
    d.op(Method::POST, "/v1/usage/batches", "Ingest a signed usage batch from the edge")
        .describe("description", json!(INGEST))
        .describe(
            "parameters",
            json!([{ "name": SIGNATURE, "in": "header", "required": true, "schema": { "type": "string" } }]),
        )
        .body::<UsageBatch>()
        .answers::<Receipt>(202, "Applied")
        .answers::<Receipt>(200, "Duplicate: already applied, nothing added")
        .public()
        .errors(&[401, 404])
        .add();
}
