//! The snippets' shapes: placeholders, left-out parameters, Python literals. That they run
//! is `tests/reference_snippets.rs`.

use super::*;

fn parameter(location: &str, name: &str, required: bool, example: &str) -> ParameterView {
    ParameterView {
        location: location.to_owned(),
        name: name.to_owned(),
        required,
        deprecated: false,
        type_label: "string".to_owned(),
        description_html: String::new(),
        example: example.to_owned(),
        input_id: format!("{location}-{name}"),
        in_form: true,
        repeat: false,
    }
}

#[test]
fn a_path_value_without_example_stays_a_placeholder_curl_does_not_glob() {
    let parameters = [parameter("path", "petId", true, "")];
    let call = Call {
        gateway: "http://gw.test",
        method: "GET",
        path: "/pets/{petId}",
        parameters: &parameters,
        key: None,
        body: None,
    };
    let snippets = build(&call);
    assert_eq!(snippets.curl, "curl -g \"http://gw.test/pets/{petId}\"");
    assert!(snippets.python.contains("\"http://gw.test/pets/{petId}\""), "{}", snippets.python);
}

#[test]
fn optional_parameters_without_example_are_left_out_and_cookies_never_sent() {
    let mut cookie = parameter("cookie", "session", true, "abc");
    cookie.in_form = false;
    let parameters = [parameter("query", "page", false, ""), parameter("query", "q", false, "a b"), cookie];
    let call =
        Call { gateway: "http://gw.test", method: "GET", path: "/s", parameters: &parameters, key: None, body: None };
    let snippets = build(&call);
    assert_eq!(snippets.curl, "curl \"http://gw.test/s?q=a+b\"");
    assert!(!snippets.javascript.contains("session") && !snippets.python.contains("session"));
}

#[test]
fn json_becomes_python_literals() {
    let value = serde_json::json!({"a": [true, false, null], "b": {}, "c": "x\"y"});
    assert_eq!(python_literal(&value), "{\n    \"a\": [\n        True,\n        False,\n        None,\n    ],\n    \"b\": {},\n    \"c\": \"x\\\"y\",\n}");
}
