use super::*;

fn seg(text: &str) -> Segment {
    let template = Template::parse(&format!("/{text}")).expect("a template");
    template.segments.into_iter().next().expect("one segment")
}

#[test]
fn variables_fill_part_of_a_segment_beside_literal_text() {
    assert!(seg("{name}.json").matches("report.json"));
    assert!(!seg("{name}.json").matches(".json"), "a variable takes at least one byte");
    assert!(!seg("{name}.json").matches("report.xml"));
    assert!(seg("{id}:cancel").matches("42:cancel"));
    assert!(seg("{a}-{b}").matches("x-y-z"));
    assert!(!seg("{a}-{b}").matches("xyz"));
    assert!(seg("v{major}.{minor}").matches("v1.2"));
    assert!(!seg("v{major}.{minor}").matches("v1."));
}

#[test]
fn segments_rank_literal_then_more_literal_text_then_whole_variable() {
    assert!(seg("search").rank() > seg("{id}:cancel").rank());
    assert!(seg("{id}:cancel").rank() > seg("{id}.x").rank());
    assert!(seg("{id}.x").rank() > seg("{id}").rank());
}

#[test]
fn overlap_is_exact_for_patterns() {
    assert!(!overlap(&seg("{a}.json"), &seg("{a}.yaml")));
    assert!(overlap(&seg("{a}.{b}"), &seg("{a}-{b}")), "x.y-z matches both");
    assert!(!overlap(&seg("a{x}"), &seg("b{x}")));
    assert!(overlap(&seg("{x}"), &seg("{y}")));
}

#[test]
fn malformed_templates_are_refused_with_their_place() {
    assert_eq!(Template::parse("pets"), Err(vec![TemplateError::NoLeadingSlash]));
    assert_eq!(Template::parse("/a/{x"), Err(vec![TemplateError::Unclosed { at: 3 }]));
    assert!(seg("{id}{ext}").matches("7.json") && !seg("{id}{ext}").matches("7"));
    assert_eq!(seg("{id}{ext}").rank(), Rank::Variable);
    assert_eq!(Template::parse("/{a}/{a}"), Err(vec![TemplateError::Repeated("a".into())]));
}

#[test]
fn trailing_slash_and_root_are_read_apart() {
    let root = Template::parse("/").expect("root");
    assert!(root.segments.is_empty() && !root.trailing_slash);
    let a = Template::parse("/a/").expect("a/");
    assert_eq!((a.segments.len(), a.trailing_slash), (1, true));
    assert_eq!(split_key("/things?action=start"), ("/things", Some(('?', "action=start"))));
    assert_eq!(split_key("/#X-Amz-Target=S.Op"), ("/", Some(('#', "X-Amz-Target=S.Op"))));
    assert_eq!(Template::parse("/files/{name}.json").expect("t").example("v"), "/files/v.json");
}
