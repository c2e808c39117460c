//! Mail the platform sends on its own: a deprecation notice to every developer whose apps
//! called the API in the last 30 days, sent once, when the API goes from published to
//! deprecated (changing the sunset date later sends nothing); and the decision on an access
//! request, to the developer who asked.

use gatehouse_core::lifecycle::Lifecycle;
use gatehouse_core::model::{AccessRequest, AccessState, Api, App, Developer};
use gatehouse_core::store::Repo;
use gatehouse_core::time::rfc3339;

use crate::mail::Mail;
use crate::publisher::Publisher;
use crate::routes::callers::api_callers;
use crate::state::AdminState;

/// Days of calls that make a developer someone to tell.
const RECENT_DAYS: u32 = 30;

/// Tells the recent callers of `api` (just deprecated) about it; answers how many messages
/// were handed to the mailer. A failure is logged, never undoes the deprecation.
pub(crate) async fn deprecated<R: Repo, P: Publisher>(s: &AdminState<R, P>, api: &Api) -> usize {
    let (Some(mailer), Lifecycle::Deprecated { sunset_at, successor, .. }) = (s.mailer.as_ref(), &api.lifecycle) else {
        return 0;
    };
    let callers = match api_callers(s, &api.id, RECENT_DAYS).await {
        Ok(callers) => callers,
        Err(e) => {
            tracing::warn!(error = %e, api = %api.id, "deprecation notices not sent: callers unknown");
            return 0;
        }
    };
    let when = sunset_at.map_or_else(
        || "No date is set yet for it to stop working.".to_owned(),
        |t| format!("It stops working on {}.", &rfc3339(t)[..10]),
    );
    let instead = successor.as_deref().map_or_else(String::new, |url| format!("\nIts successor: {url}\n"));
    let page = s
        .portal
        .public_url
        .as_deref()
        .map_or_else(String::new, |base| format!("\nDetails: {}/apis/{}\n", base.trim_end_matches('/'), api.id));
    let mut sent = 0;
    for caller in callers.items {
        let apps: Vec<String> = caller
            .apps
            .iter()
            .map(|a| format!("  - your app {} called it {} times in the last {RECENT_DAYS} days", a.name, a.requests))
            .collect();
        let text = format!(
            "Hello {name},\n\n{api} (version {version}) is deprecated. {when}\n{instead}\n{apps}\n{page}",
            name = caller.name,
            api = api.name,
            version = api.version,
            apps = apps.join("\n"),
        );
        let mail = Mail { to: caller.email, subject: format!("{} is deprecated", api.name), text };
        match mailer.send(mail).await {
            Ok(()) => sent += 1,
            Err(e) => {
                tracing::warn!(error = %e, api = %api.id, developer = %caller.developer_id, "a deprecation notice failed")
            }
        }
    }
    sent
}

/// Tells the developer what became of their access request. A failure is logged, never
/// undoes the decision; without mail set up, the portal's dashboard is where they see it.
pub(crate) async fn access_decided<R: Repo, P: Publisher>(s: &AdminState<R, P>, request: &AccessRequest) {
    let Some(mailer) = s.mailer.as_ref() else { return };
    let (developer, app, api) = match (
        s.repo.get::<Developer>(&request.developer_id).await,
        s.repo.get::<App>(&request.app_id).await,
        s.repo.get::<Api>(&request.api_id).await,
    ) {
        (Ok(developer), Ok(app), Ok(api)) => (developer, app, api),
        _ => return tracing::warn!(request = %request.id, "access decision not mailed: its records are gone"),
    };
    let what = format!("{} data of {} for your app {}", request.class, api.name, app.name);
    let (subject, outcome) = match &request.state {
        AccessState::Approved { expires_at, .. } => {
            ("approved", format!("Your request for {what} is approved, until {}.", &rfc3339(*expires_at)[..10]))
        }
        AccessState::Denied { reason, .. } => ("denied", format!("Your request for {what} is denied:\n\n{reason}")),
        AccessState::Revoked { reason, .. } if reason.is_empty() => {
            ("revoked", format!("Access to {what} is revoked."))
        }
        AccessState::Revoked { reason, .. } => ("revoked", format!("Access to {what} is revoked:\n\n{reason}")),
        AccessState::Pending => return,
    };
    let page = s
        .portal
        .public_url
        .as_deref()
        .map_or_else(String::new, |base| format!("\n\nYour requests: {}/dashboard\n", base.trim_end_matches('/')));
    let text = format!("Hello {},\n\n{outcome}{page}", developer.name);
    let mail = Mail { to: developer.email, subject: format!("Access to {} data {subject}", request.class), text };
    if let Err(e) = mailer.send(mail).await {
        tracing::warn!(error = %e, request = %request.id, "an access decision mail failed");
    }
}
