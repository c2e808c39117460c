use serde_json::json;

use super::*;
use crate::model::ProductItem;

fn partners(groups: &[&str], organisations: &[&str]) -> Audience {
    let names = |list: &[&str]| list.iter().map(|n| n.to_string()).collect();
    Audience::Partners(Partners { groups: names(groups), organisations: names(organisations) })
}

fn product(id: &str, api_id: &str, audience: Audience) -> Product {
    Product {
        id: id.into(),
        name: id.into(),
        description: String::new(),
        items: vec![ProductItem { api_id: api_id.into(), operations: None }],
        audience,
        created_at: 0,
    }
}

#[test]
fn each_audience_admits_exactly_its_visitors() {
    let acme = ["org_acme".to_owned()];
    let anonymous = Visitor::Anonymous;
    let registered = Visitor::Developer { group: None, organisations: &[] };
    let gold = Visitor::Developer { group: Some("gold"), organisations: &[] };
    let partner = Visitor::Developer { group: None, organisations: &acme };
    let table = [
        (Audience::Public, [true, true, true, true, true]),
        (Audience::Registered, [false, true, true, true, true]),
        (Audience::Internal, [false, false, false, false, true]),
        (partners(&["gold"], &[]), [false, false, true, false, true]),
        (partners(&[], &["org_acme"]), [false, false, false, true, true]),
        (partners(&["gold"], &["org_acme"]), [false, false, true, true, true]),
    ];
    for (audience, expected) in table {
        let seen = [anonymous, registered, gold, partner, Visitor::Staff].map(|v| audience.admits(v));
        assert_eq!(seen, expected, "{audience}");
    }
}

#[test]
fn an_api_is_visible_through_an_admitting_product_and_otherwise_to_staff_only() {
    let products = [
        product("prod_public", "api_both", Audience::Public),
        product("prod_partner", "api_both", partners(&[], &["org_acme"])),
        product("prod_internal", "api_secret", Audience::Internal),
    ];
    let anonymous = Visibility::of(Visitor::Anonymous, &products);
    assert!(anonymous.api("api_both") && anonymous.product("prod_public"));
    assert!(!anonymous.product("prod_partner"), "the partner plan of a public API stays hidden");
    assert!(!anonymous.api("api_secret") && !anonymous.api("api_unbundled"));
    let staff = Visibility::of(Visitor::Staff, &products);
    assert!(staff.api("api_secret") && staff.api("api_unbundled") && staff.product("prod_partner"));
}

#[test]
fn the_wire_form_is_a_word_or_the_partner_names_and_anything_else_is_refused_clearly() {
    for (audience, wire) in [
        (Audience::Public, json!("public")),
        (Audience::Internal, json!("internal")),
        (partners(&["gold"], &["org_acme"]), json!({"groups": ["gold"], "organisations": ["org_acme"]})),
    ] {
        assert_eq!(serde_json::to_value(&audience).expect("serialises"), wire);
        assert_eq!(serde_json::from_value::<Audience>(wire).expect("reads back"), audience);
    }
    for bad in [json!("everyone"), json!({"teams": ["x"]}), json!(3)] {
        let error = serde_json::from_value::<Audience>(bad).expect_err("refused").to_string();
        assert!(error.contains("\"public\", \"registered\", \"internal\""), "{error}");
    }
    assert!(partners(&[], &[]).problem().is_some());
    assert!(partners(&[" "], &[]).problem().is_some());
    assert_eq!(partners(&["gold"], &[]).problem(), None);
}
