use http::{HeaderMap, HeaderValue};

use super::*;

fn op(method: &str, path: &str) -> Operation {
    let (_, discriminator) = split_key(path);
    let discriminators = discriminator
        .map(|(separator, text)| {
            let place = if separator == '?' { DiscriminatorPlace::Query } else { DiscriminatorPlace::Header };
            let condition = |pair: &str| {
                let (name, value) = pair.split_once('=').map_or((pair, None), |(n, v)| (n, Some(v.to_owned())));
                Discriminator { place, name: name.into(), value }
            };
            text.split('&').map(condition).collect()
        })
        .unwrap_or_default();
    Operation {
        id: format!("{method} {path}"),
        method: method.into(),
        path: path.into(),
        discriminators,
        ..Default::default()
    }
}

/// The path template of the operation `method path` reaches, or why none.
fn routed(ops: &[Operation], method: &str, path: &str) -> Result<String, NoMatch> {
    routed_with(ops, method, path, Extras::default())
}

fn routed_with(ops: &[Operation], method: &str, path: &str, extras: Extras) -> Result<String, NoMatch> {
    let index = PathIndex::new(ops);
    index.find(ops, method, path, extras).map(|i| ops[i].path.clone())
}

#[test]
fn a_variable_filling_part_of_a_segment_is_matched_and_not_taken_by_a_whole_segment_variable() {
    let ops = [op("GET", "/files/{name}"), op("GET", "/files/{name}.json"), op("POST", "/jobs/{id}:cancel")];
    assert_eq!(routed(&ops, "GET", "/files/report.json"), Ok("/files/{name}.json".into()));
    assert_eq!(routed(&ops, "GET", "/files/report"), Ok("/files/{name}".into()));
    assert_eq!(routed(&ops, "POST", "/jobs/7:cancel"), Ok("/jobs/{id}:cancel".into()));
    assert_eq!(routed(&ops, "POST", "/jobs/7"), Err(NoMatch::NoOperation));
}

#[test]
fn a_literal_segment_wins_over_a_template_declared_before_it() {
    let ops = [op("GET", "/pets/{id}"), op("GET", "/pets/mine"), op("GET", "/{kind}/mine")];
    assert_eq!(routed(&ops, "GET", "/pets/mine"), Ok("/pets/mine".into()));
    assert_eq!(routed(&ops, "GET", "/pets/7"), Ok("/pets/{id}".into()));
    assert_eq!(routed(&ops, "GET", "/toys/mine"), Ok("/{kind}/mine".into()));
}

#[test]
fn more_literal_text_wins_between_templates_and_a_dead_end_gives_way() {
    let ops = [op("GET", "/v/{a}.{b}"), op("GET", "/v/{a}.tar.{b}"), op("GET", "/x/y/z"), op("GET", "/x/{y}/w")];
    assert_eq!(routed(&ops, "GET", "/v/pkg.tar.gz"), Ok("/v/{a}.tar.{b}".into()));
    assert_eq!(routed(&ops, "GET", "/v/pkg.zip"), Ok("/v/{a}.{b}".into()));
    assert_eq!(routed(&ops, "GET", "/x/y/w"), Ok("/x/{y}/w".into()), "the literal branch dead-ends");
}

#[test]
fn an_explicit_head_wins_over_the_get_fallback() {
    let ops = [op("GET", "/a"), op("HEAD", "/a"), op("GET", "/b")];
    let index = PathIndex::new(&ops);
    assert_eq!(index.find(&ops, "HEAD", "/a", Extras::default()), Ok(1));
    assert_eq!(index.find(&ops, "HEAD", "/b", Extras::default()), Ok(2));
    assert_eq!(index.find(&ops, "PUT", "/b", Extras::default()), Err(NoMatch::MethodNotAllowed));
}

#[test]
fn a_trailing_slash_counts_only_where_the_document_declares_both() {
    let ops = [op("GET", "/a"), op("POST", "/a/"), op("GET", "/only/")];
    assert_eq!(routed(&ops, "GET", "/a"), Ok("/a".into()));
    assert_eq!(routed(&ops, "POST", "/a/"), Ok("/a/".into()));
    assert_eq!(routed(&ops, "POST", "/a"), Err(NoMatch::MethodNotAllowed));
    assert_eq!(routed(&ops, "GET", "/only"), Ok("/only/".into()));
    assert_eq!(routed(&ops, "GET", "/only/"), Ok("/only/".into()));
}

#[test]
fn query_and_header_discriminators_select_the_operation() {
    let ops = [
        op("POST", "/things?action=start"),
        op("POST", "/things?action=stop"),
        op("POST", "/things"),
        op("POST", "/#X-Amz-Target=Svc.Get"),
        op("POST", "/#X-Amz-Target=Svc.Put"),
    ];
    let with_query = |query| Extras { query: Some(query), headers: None };
    assert_eq!(routed_with(&ops, "POST", "/things", with_query("x=1&action=stop")), Ok("/things?action=stop".into()));
    assert_eq!(routed_with(&ops, "POST", "/things", with_query("action=start")), Ok("/things?action=start".into()));
    assert_eq!(routed_with(&ops, "POST", "/things", with_query("action=other")), Ok("/things".into()));
    let mut headers = HeaderMap::new();
    headers.insert("x-amz-target", HeaderValue::from_static("Svc.Put"));
    let extras = Extras { query: None, headers: Some(&headers) };
    assert_eq!(routed_with(&ops, "POST", "/", extras), Ok("/#X-Amz-Target=Svc.Put".into()));
    assert_eq!(routed(&ops, "POST", "/"), Err(NoMatch::NoOperation), "no fallback without a discriminator");
}

#[test]
fn the_discriminator_with_the_most_conditions_met_wins_whatever_the_document_order() {
    let ops = [op("PUT", "/{key}?copy"), op("PUT", "/{key}?copy&part&upload"), op("PUT", "/{key}")];
    let extras = |query| Extras { query: Some(query), headers: None };
    assert_eq!(routed_with(&ops, "PUT", "/k", extras("part=1&copy=s&upload=u")), Ok("/{key}?copy&part&upload".into()));
    assert_eq!(routed_with(&ops, "PUT", "/k", extras("copy=s")), Ok("/{key}?copy".into()));
    assert_eq!(routed_with(&ops, "PUT", "/k", extras("part=1")), Ok("/{key}".into()));
}

#[test]
fn query_values_are_compared_decoded() {
    assert!(query_has("a=1&action=go%20on", "action", Some("go on")));
    assert!(query_has("action=go+on", "action", Some("go on")));
    assert!(!query_has("action=go", "action", Some("go on")));
    assert!(!query_has("actions=go", "action", Some("go")));
    assert!(query_has("x=1&tagKeys=a", "tagKeys", None), "present with any value");
    assert!(!query_has("x=1", "tagKeys", None));
}
