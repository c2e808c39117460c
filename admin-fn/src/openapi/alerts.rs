//! The alert rules and the delivery log in the document (see [`super::operations`] for the
//! rest of the table).

use axum::http::Method;
use gatehouse_core::alerts::AlertDelivery;

use super::Doc;
use crate::routes::alerts::{AlertRuleView, CreatedAlertRule, DeliveryQuery, NewAlertRule};
use crate::views::Items;

pub(super) fn describe(d: &mut Doc) {
    d.op(Method::GET, "/v1/alert-rules", "List alert rules (a developer: their own)")
        .ok::<Items<AlertRuleView>>()
        .add();
    d.op(
        Method::POST,
        "/v1/alert-rules",
        "Create an alert rule: a quota at N %, an error rate over N % for M minutes, or p95 latency over T ms; \
        delivered by email and signed webhook. The webhook signing secret is in this response only",
    )
    .body::<NewAlertRule>()
    .created::<CreatedAlertRule>()
    .errors(&[409])
    .add();
    d.op(Method::GET, "/v1/alert-rules/{id}", "Get an alert rule (without its signing secret)")
        .ok::<AlertRuleView>()
        .add();
    d.op(Method::DELETE, "/v1/alert-rules/{id}", "Delete an alert rule").no_content().add();
    d.op(
        Method::GET,
        "/v1/alert-deliveries",
        "The delivery log, newest first (at most 200): each channel's delivery of each firing, with every attempt",
    )
    .query::<DeliveryQuery>()
    .ok::<Items<AlertDelivery>>()
    .add();
}
