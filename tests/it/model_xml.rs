//! Reading the XML itself: namespaces by URI, encodings, hostile input.

use bpmn_engine::model::xml::Limits;
use bpmn_engine::model::{self, NodeKind, Options, Severity};

use crate::common::*;

const BODY: &str = r#"
  <{p}process id="p" isExecutable="true">
    <{p}startEvent id="s"/>
    <{p}userTask id="t" name="Do it"/>
    <{p}endEvent id="e"/>
    <{p}sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <{p}sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
  </{p}process>"#;

fn with_prefix(prefix: &str) -> String {
    let (decl, p) = if prefix.is_empty() {
        (
            r#"xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL""#.to_string(),
            String::new(),
        )
    } else {
        (
            format!(r#"xmlns:{prefix}="http://www.omg.org/spec/BPMN/20100524/MODEL""#),
            format!("{prefix}:"),
        )
    };
    format!(
        r#"<?xml version="1.0"?><{p}definitions {decl} id="d">{}</{p}definitions>"#,
        BODY.replace("{p}", &p)
    )
}

#[test]
fn namespaces_are_matched_by_uri_whatever_the_prefix() {
    for prefix in ["bpmn", "bpmn2", "semantic", ""] {
        let defs = parse(&with_prefix(prefix));
        let p = defs
            .process("p")
            .unwrap_or_else(|| panic!("prefix {prefix:?}"));
        assert_eq!(p.nodes.len(), 3, "prefix {prefix:?}");
        assert!(matches!(p.node("t").unwrap().kind, NodeKind::UserTask(_)));
        assert_eq!(p.flows.len(), 2);
    }
}

#[test]
fn the_bpmn_prefix_bound_to_another_namespace_is_not_bpmn() {
    let xml = with_prefix("bpmn").replace(
        "http://www.omg.org/spec/BPMN/20100524/MODEL",
        "http://example.com/not-bpmn",
    );
    let errors = parse_err(&xml);
    assert!(
        errors[0].contains("not in the BPMN 2.0 namespace"),
        "{errors:?}"
    );
}

#[test]
fn camunda_attributes_are_matched_by_uri() {
    let xml = definitions(
        r#"<bpmn:process id="p" isExecutable="true" xmlns:c7="http://camunda.org/schema/1.0/bpmn" xmlns:fake="http://example.com/other">
        <bpmn:startEvent id="s"/>
        <bpmn:userTask id="t" c7:assignee="ann" fake:candidateGroups="x"/>
        <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="t"/>
        </bpmn:process>"#,
    );
    let defs = parse(&xml);
    let NodeKind::UserTask(u) = &defs.process("p").unwrap().node("t").unwrap().kind else {
        panic!()
    };
    assert_eq!(
        u.assignee.as_ref().map(|a| a.source()),
        Some("ann".to_string())
    );
    assert!(
        u.candidate_groups.is_none(),
        "an attribute of another namespace is not camunda's"
    );
}

#[test]
fn a_utf8_byte_order_mark_is_accepted() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(with_prefix("bpmn").as_bytes());
    assert!(model::parse(&bytes).is_ok());
}

#[test]
fn iso_8859_1_and_windows_1252_files_are_decoded() {
    // "Rechnung kl\xe4ren" is "Rechnung klären" in ISO-8859-1; 0x80 is the euro sign in windows-1252.
    for (label, name, expected) in [
        ("ISO-8859-1", &b"Rechnung kl\xe4ren"[..], "Rechnung klären"),
        ("windows-1252", &b"Preis \x80"[..], "Preis €"),
    ] {
        let mut bytes = format!(r#"<?xml version="1.0" encoding="{label}"?>"#).into_bytes();
        let doc = with_prefix("bpmn");
        let doc = doc.trim_start_matches(r#"<?xml version="1.0"?>"#);
        let (head, tail) = doc.split_once(r#"name="Do it""#).unwrap();
        bytes.extend_from_slice(head.as_bytes());
        bytes.extend_from_slice(b"name=\"");
        bytes.extend_from_slice(name);
        bytes.extend_from_slice(b"\"");
        bytes.extend_from_slice(tail.as_bytes());
        let defs = model::parse(&bytes).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(
            defs.process("p")
                .unwrap()
                .node("t")
                .unwrap()
                .name
                .as_deref(),
            Some(expected)
        );
    }
}

#[test]
fn undecodable_bytes_are_located() {
    let xml = with_prefix("bpmn").replace("Do it", "Do\u{1}it");
    let mut bytes = xml.into_bytes();
    let at = bytes.iter().position(|b| *b == 1).unwrap();
    bytes[at] = 0xE4; // not UTF-8, and the declaration does not say otherwise
    let err = model::parse(&bytes).unwrap_err();
    let d = &err.diagnostics[0];
    assert!(d.message.contains("not valid UTF-8"), "{d}");
    assert_eq!(d.line, 4, "{d}");
    assert_eq!(d.column, 35, "{d}");
}

#[test]
fn a_doctype_is_refused_outright() {
    let xml = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p"/></definitions>"#;
    let errors = parse_err(xml);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].starts_with("2:1: error: DOCTYPE"), "{errors:?}");
}

fn limited(limits: Limits, xml: &str) -> String {
    let err = model::parse_with(
        xml.as_bytes(),
        &Options {
            limits,
            ..Options::default()
        },
    )
    .unwrap_err();
    err.diagnostics[0].message.clone()
}

#[test]
fn each_cap_says_which_cap_was_hit() {
    let xml = with_prefix("bpmn");
    let depth = limited(
        Limits {
            max_depth: 2,
            ..Limits::default()
        },
        &xml,
    );
    assert!(depth.contains("nested more than 2 deep"), "{depth}");
    let count = limited(
        Limits {
            max_elements: 4,
            ..Limits::default()
        },
        &xml,
    );
    assert!(count.contains("more than 4 elements"), "{count}");
    let size = limited(
        Limits {
            max_bytes: 100,
            ..Limits::default()
        },
        &xml,
    );
    assert!(size.contains("the limit is 100 bytes"), "{size}");
    let doc = with_prefix("bpmn").replace(r#"<bpmn:userTask id="t" name="Do it"/>"#, r#"<bpmn:userTask id="t"><bpmn:documentation>0123456789abcdef</bpmn:documentation></bpmn:userTask>"#);
    let text = limited(
        Limits {
            max_text: 10,
            ..Limits::default()
        },
        &doc,
    );
    assert!(text.contains("longer than 10 bytes"), "{text}");
    let attribute = limited(
        Limits {
            max_attribute: 3,
            ..Limits::default()
        },
        &xml,
    );
    assert!(
        attribute.contains("the attribute") && attribute.contains("longer than 3 bytes"),
        "{attribute}"
    );
}

#[test]
fn malformed_xml_names_line_and_column() {
    let xml = "<?xml version=\"1.0\"?>\n<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\">\n  <bpmn:process id=\"p\">\n  </bpmn:proces>\n</bpmn:definitions>";
    let err = model::parse(xml.as_bytes()).unwrap_err();
    let d = &err.diagnostics[0];
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(d.line, 4, "{d}");
    assert!(d.message.contains("malformed XML"), "{d}");
}

#[test]
fn entities_and_character_references_are_decoded() {
    let xml = with_prefix("bpmn").replace("Do it", "A &amp; B &#x263A; &lt;x&gt;");
    let defs = parse(&xml);
    assert_eq!(
        defs.process("p")
            .unwrap()
            .node("t")
            .unwrap()
            .name
            .as_deref(),
        Some("A & B ☺ <x>")
    );
    let bad = with_prefix("bpmn").replace("Do it", "&nope;");
    assert!(model::parse(bad.as_bytes()).is_err());
}

#[test]
fn a_utf8_source_is_stored_with_a_utf8_declaration() {
    let bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xe4</a>";
    let text = model::xml::to_utf8_source(bytes).unwrap();
    assert_eq!(text, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>ä</a>");
}
