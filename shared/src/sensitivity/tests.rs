//! The filter and the decisions, driven through a real import so the compiled graph is the
//! one the gateway would get.

use http::HeaderMap;
use serde_json::{json, Value};

use super::decide::{asked_classes, check_request, reached_classes, response_plan, Needed, ResponsePlan};
use super::{filter, FilterError, OperationSensitivity, MAX_FILTERED_BODY_BYTES};
use crate::openapi::import;

/// People who know people: `friends` recurses through `$ref`, `Customer` is `allOf` a base,
/// cards are masked, and the list wraps the items in an object.
fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "People", "version": "1"},
        "paths": {
            "/people": {"get": {
                "operationId": "listPeople",
                "parameters": [
                    {"name": "ssn", "in": "query", "schema": {"type": "string"}, "x-gatehouse-sensitivity": "pii"},
                    {"$ref": "#/components/parameters/Trace"}
                ],
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {"schema": {
                        "type": "object",
                        "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Customer"}}}
                    }}}},
                    "404": {"description": "none", "content": {"application/json": {"schema": {"type": "object"}}}}
                }
            }},
            "/people/{id}/salary": {"get": {
                "operationId": "salary",
                "x-gatehouse-sensitivity": "financial",
                "responses": {"200": {"description": "ok"}}
            }},
            "/me": {"get": {
                "operationId": "me",
                "responses": {"2XX": {"$ref": "#/components/responses/Secret"}}
            }}
        },
        "components": {
            "parameters": {"Trace": {"name": "X-Customer-Email", "in": "header", "schema": {"$ref": "#/components/schemas/Email"}}},
            "responses": {"Secret": {"description": "the body is a secret", "content": {"application/json": {"schema": {"type": "string", "x-gatehouse-sensitivity": "secret"}}}}},
            "schemas": {
                "Email": {"type": "string", "x-gatehouse-sensitivity": "pii"},
                "Person": {"type": "object", "properties": {
                    "name": {"type": "string"},
                    "email": {"$ref": "#/components/schemas/Email"},
                    "friends": {"type": "array", "items": {"$ref": "#/components/schemas/Person"}}
                }},
                "Customer": {"allOf": [
                    {"$ref": "#/components/schemas/Person"},
                    {"type": "object", "properties": {
                        "card": {"type": "string", "x-gatehouse-sensitivity": {"class": "financial", "mask": "last4"}},
                        "phone": {"type": "string", "x-gatehouse-sensitivity": {"class": "pii", "mask": "redact"}},
                        "nickname": {"type": "string"}
                    }}
                ]}
            }
        }
    })
}

fn spec(id: &str) -> OperationSensitivity {
    let imported = import(&document().to_string()).expect("imports");
    let op = imported.operations.iter().find(|op| op.id == id).expect("operation");
    op.sensitivity.as_deref().cloned().expect("sensitive")
}

/// The body as `holds` would see it: (body, withheld class names).
fn seen(id: &str, body: &str, holds: &[&str]) -> (Value, Vec<String>) {
    let spec = spec(id);
    match response_plan(&spec, 200, Some("application/json; charset=utf-8"), |c| holds.contains(&c)) {
        ResponsePlan::Relay => (serde_json::from_str(body).expect("json"), vec![]),
        ResponsePlan::Filter { filter: f, lacking } => {
            let out = filter(f, lacking, body.as_bytes()).expect("filters");
            let names = f.class_names(out.withheld).into_iter().map(String::from).collect();
            (serde_json::from_slice(&out.body).expect("filter writes JSON"), names)
        }
        ResponsePlan::Unfilterable { .. } => panic!("JSON is filterable"),
    }
}

fn people() -> String {
    json!({"items": [
        {"name": "Ann", "email": "ann@x.test", "card": "4111111111111111", "phone": "+44 1234", "nickname": "A",
         "friends": [{"name": "Bob", "email": "bob@x.test", "friends": [{"name": "Cy", "email": "cy@x.test"}]}]},
        {"name": "Dee", "nickname": "D"}
    ]})
    .to_string()
}

#[test]
fn nested_objects_arrays_and_ref_cycles_lose_every_field_of_a_class_not_held() {
    let (body, withheld) = seen("listPeople", &people(), &[]);
    assert_eq!(
        body,
        json!({"items": [
            {"name": "Ann", "card": "************1111", "phone": null, "nickname": "A",
             "friends": [{"name": "Bob", "friends": [{"name": "Cy"}]}]},
            {"name": "Dee", "nickname": "D"}
        ]})
    );
    assert_eq!(withheld, ["pii", "financial"]);
}

#[test]
fn a_caller_holding_one_class_sees_that_class_and_only_that_one() {
    let (body, withheld) = seen("listPeople", &people(), &["pii"]);
    assert_eq!(body["items"][0]["email"], "ann@x.test");
    assert_eq!(body["items"][0]["friends"][0]["friends"][0]["email"], "cy@x.test");
    assert_eq!(body["items"][0]["card"], "************1111");
    assert_eq!(withheld, ["financial"]);
    let (all, none) = seen("listPeople", &people(), &["pii", "financial"]);
    assert_eq!((all, none), (serde_json::from_str(&people()).expect("json"), vec![]));
}

#[test]
fn all_of_members_apply_to_the_same_object() {
    // `email` comes from Person through `allOf`, `card` from the inline member beside it.
    let (body, _) = seen("listPeople", r#"{"items":[{"email":"e@x.test","card":"12345678"}]}"#, &[]);
    assert_eq!(body, json!({"items": [{"card": "****5678"}]}));
}

#[test]
fn untouched_values_keep_the_upstreams_bytes() {
    let body = r#"{"items":[{"name":"Ann","score":1.0000000000000000000001,"email":"a@x.test"}],"n":123456789012345678901234567890}"#;
    let spec = spec("listPeople");
    let ResponsePlan::Filter { filter: f, lacking } = response_plan(&spec, 200, Some("application/json"), |_| false)
    else {
        panic!("filters")
    };
    let out = filter(f, lacking, body.as_bytes()).expect("filters");
    assert_eq!(
        std::str::from_utf8(&out.body).expect("utf-8"),
        r#"{"items":[{"name":"Ann","score":1.0000000000000000000001}],"n":123456789012345678901234567890}"#
    );
}

#[test]
fn a_repeated_member_name_is_filtered_every_time() {
    let (body, _) = seen("listPeople", r#"{"items":[{"email":"a@x.test","email":"b@x.test","name":"Ann"}]}"#, &[]);
    assert_eq!(body, json!({"items": [{"name": "Ann"}]}));
}

#[test]
fn malformed_json_is_refused_never_passed_through() {
    let spec = spec("listPeople");
    let ResponsePlan::Filter { filter: f, lacking } = response_plan(&spec, 200, Some("application/json"), |_| false)
    else {
        panic!("filters")
    };
    for bad in [&br#"{"items":[{"email":"a@x.test"}"#[..], br#"{"items":[]} trailing"#, b"\xff\xfe", b""] {
        assert!(matches!(filter(f, lacking, bad), Err(FilterError::Malformed(_))), "{bad:?}");
    }
    // Malformed inside an array the filter does not need to open is still refused: the whole
    // body is validated.
    assert!(matches!(filter(f, lacking, br#"{"other":[1,2,}],"items":[]}"#), Err(FilterError::Malformed(_))));
}

#[test]
fn large_bodies_filter_up_to_the_limit_and_are_refused_past_it() {
    let spec = spec("listPeople");
    let ResponsePlan::Filter { filter: f, lacking } = response_plan(&spec, 200, Some("application/json"), |_| false)
    else {
        panic!("filters")
    };
    let person = r#"{"name":"Ann","email":"ann@x.test","friends":[{"name":"Bob","email":"b@x.test"}]}"#;
    let count = 1_000_000 / person.len();
    let body = format!(r#"{{"items":[{}]}}"#, vec![person; count].join(","));
    let out = filter(f, lacking, body.as_bytes()).expect("1 MB filters");
    let value: Value = serde_json::from_slice(&out.body).expect("json");
    assert_eq!(value["items"].as_array().map(Vec::len), Some(count));
    assert!(!String::from_utf8_lossy(&out.body).contains("@x.test"));
    let huge = vec![b' '; MAX_FILTERED_BODY_BYTES + 1];
    assert_eq!(filter(f, lacking, &huge), Err(FilterError::TooLarge));
}

#[test]
fn a_body_whose_schema_is_a_class_is_withheld_whole() {
    let spec = spec("me");
    let ResponsePlan::Filter { filter: f, lacking } = response_plan(&spec, 201, Some("application/json"), |_| false)
    else {
        panic!("the 2XX range applies to 201")
    };
    assert_eq!(filter(f, lacking, br#""the secret""#), Err(FilterError::WholeBody(0)));
}

#[test]
fn a_non_json_body_with_fields_to_withhold_is_unfilterable_and_undescribed_statuses_relay() {
    let spec = spec("listPeople");
    assert!(matches!(response_plan(&spec, 200, Some("text/csv"), |_| false), ResponsePlan::Unfilterable { .. }));
    assert!(matches!(response_plan(&spec, 200, None, |_| false), ResponsePlan::Unfilterable { .. }));
    assert_eq!(response_plan(&spec, 404, Some("application/json"), |_| false), ResponsePlan::Relay);
    assert_eq!(response_plan(&spec, 500, Some("text/plain"), |_| false), ResponsePlan::Relay);
}

#[test]
fn sensitive_parameters_and_operations_need_their_class() {
    let people = spec("listPeople");
    let headers = HeaderMap::new();
    assert_eq!(check_request(&people, |_| false, Some("limit=3"), &headers), None);
    let needed = check_request(&people, |_| false, Some("limit=3&s%73n=123"), &headers);
    assert_eq!(needed, Some(Needed::Parameter { class: "pii", name: "ssn", place: "query" }));
    assert_eq!(check_request(&people, |c| c == "pii", Some("ssn=1"), &headers), None);
    let mut with_header = HeaderMap::new();
    with_header.insert("x-customer-email", "a@x.test".parse().expect("value"));
    let needed = check_request(&people, |_| false, None, &with_header).map(|n| n.class().to_owned());
    assert_eq!(needed.as_deref(), Some("pii"), "a $ref'd parameter whose schema is annotated");
    let salary = spec("salary");
    assert_eq!(check_request(&salary, |_| false, None, &headers), Some(Needed::Operation { class: "financial" }));
    assert_eq!(check_request(&salary, |c| c == "financial", None, &headers), None);
}

#[test]
fn an_answer_reaches_the_classes_asked_for_and_those_of_its_filter_the_caller_holds() {
    let people = spec("listPeople");
    let headers = HeaderMap::new();
    let asked = asked_classes(&people, Some("ssn=1&limit=3"), &headers);
    assert_eq!(asked, vec!["pii"]);
    let holds_pii = |c: &str| c == "pii";
    let json = Some("application/json");
    assert_eq!(reached_classes(&people, &asked, 200, json, holds_pii), vec!["pii"]);
    let both = |c: &str| c == "pii" || c == "financial";
    assert_eq!(reached_classes(&people, &[], 200, json, both), vec!["financial", "pii"]);
    assert!(reached_classes(&people, &[], 200, json, |_| false).is_empty(), "withheld is not reached");
    assert!(reached_classes(&people, &asked, 404, json, both).is_empty(), "an error answer carries no data");
    assert!(asked_classes(&people, Some("limit=3"), &headers).is_empty());
    let salary = spec("salary");
    let asked = asked_classes(&salary, None, &headers);
    assert_eq!(reached_classes(&salary, &asked, 200, Some("text/plain"), |_| true), vec!["financial"]);
}

#[test]
fn import_lists_every_annotation_with_its_pointer() {
    let imported = import(&document().to_string()).expect("imports");
    let listed: Vec<(&str, &str, &str, &str)> = imported
        .sensitivity
        .fields
        .iter()
        .map(|f| (f.pointer.as_str(), f.kind.as_str(), f.name.as_str(), f.class.as_str()))
        .collect();
    for expected in [
        ("/paths/~1people/get/parameters/0", "parameter", "ssn", "pii"),
        ("/paths/~1people~1{id}~1salary/get", "operation", "salary", "financial"),
        ("/components/schemas/Email", "schema", "Email", "pii"),
        ("/components/schemas/Customer/allOf/1/properties/card", "property", "card", "financial"),
    ] {
        assert!(listed.contains(&expected), "{expected:?} in {listed:?}");
    }
}

#[test]
fn likely_sensitive_names_without_a_class_are_warned_about() {
    let mut doc = document();
    doc["components"]["schemas"]["Person"]["properties"]["home_address"] = json!({"type": "string"});
    doc["components"]["schemas"]["Person"]["properties"]["dateOfBirth"] = json!({"type": "string"});
    if let Some(parameters) = doc["paths"]["/people"]["get"]["parameters"].as_array_mut() {
        parameters.push(json!({"name": "ip", "in": "query"}));
    }
    let imported = import(&doc.to_string()).expect("imports");
    let warned: Vec<&str> = imported.sensitivity.warnings.iter().map(|w| w.pointer.as_str()).collect();
    assert_eq!(
        warned,
        [
            "/paths/~1people/get/parameters/2",
            "/components/schemas/Person/properties/home_address",
            "/components/schemas/Person/properties/dateOfBirth"
        ]
    );
    // `email` and `phone` carry classes (one through its `$ref`): no warning for them.
}

#[test]
fn a_malformed_annotation_fails_the_import_where_it_is() {
    let mut doc = document();
    doc["components"]["schemas"]["Email"]["x-gatehouse-sensitivity"] = json!({"class": "pii", "mask": "hash"});
    let problems = import(&doc.to_string()).expect_err("refused");
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].pointer, "/components/schemas/Email/x-gatehouse-sensitivity");
}
