use super::*;

fn err(s: &str) -> String {
    parse(s).expect_err(s).to_string()
}

#[test]
fn accepts_what_go_accepts() {
    let ok = [
        "",
        "plain text",
        "peer0:7052",
        "{{.peername}}_basic_ccaas:9999",
        "{{ .peername }}",
        "{{- .peername -}} : x",
        "{{.a.b.c}}",
        "{{$}}",
        "{{$x := .peername}}{{$x}}",
        "{{$x := 1}}{{$x = 2}}{{$x}}",
        "{{if .tls}}a{{end}}",
        "{{if .a}}a{{else}}b{{end}}",
        "{{if .a}}a{{else if .b}}b{{else if .c}}c{{else}}d{{end}}",
        "{{if eq .peername \"org1peer1\"}}x{{else if eq .peername `org1peer2`}}y{{end}}",
        "{{with .x}}{{.}}{{else with .y}}{{.}}{{end}}",
        "{{range .list}}{{.}}{{break}}{{end}}",
        "{{range $i, $e := .list}}{{$i}}{{$e}}{{continue}}{{end}}",
        "{{range $e := .list}}{{$e}}{{else}}none{{end}}",
        "{{/* a comment */}}",
        "{{- /* trimmed comment */ -}}",
        "{{define \"x\"}}X{{end}}{{template \"x\" .}}",
        "{{block \"b\" .}}B{{end}}",
        "{{printf \"%s:%d\" .host 7052}}",
        "{{.host | printf \"%s\"}}",
        "{{len .list | printf \"%d\"}}",
        "{{(index .hosts 0)}}:7052",
        "{{index .m \"key\"}}",
        "{{and .a .b}}{{or .a .b}}{{not .a}}",
        "{{1}}{{-1}}{{0x1F}}{{0o17}}{{0b101}}{{1_000}}{{1.5}}{{1e3}}{{0x1p-2}}{{1i}}{{1+2i}}",
        "{{'a'}}{{'\\n'}}{{'\\''}}",
        "{{\"\\u00e9\\x41\\101\\t\"}}",
        "{{nil | print}}",
        "multi\nline {{.x}}\n",
        "{{.x\n}}",
        "a } b { c",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    ];
    for s in ok {
        assert!(parse(s).is_ok(), "{s:?}: {:?}", parse(s));
    }
}

#[test]
fn rejects_what_go_rejects_with_go_messages() {
    let cases = [
        ("{{end}}", "template: :1: unexpected {{end}}"),
        ("{{else}}", "template: :1: unexpected {{else}}"),
        ("{{if .a}}", "template: :1: unexpected EOF"),
        ("{{.peername", "template: :1: unclosed action"),
        ("{{.peername}", "template: :1: bad character U+007D '}'"),
        ("{{if}}{{end}}", "template: :1: missing value for if"),
        ("{{}}", "template: :1: missing value for command"),
        ("{{foo .x}}", "template: :1: function \"foo\" not defined"),
        ("{{$x}}", "template: :1: undefined variable \"$x\""),
        ("{{break}}", "template: :1: {{break}} outside {{range}}"),
        ("{{range .l}}{{else}}{{continue}}{{end}}", "template: :1: {{continue}} outside {{range}}"),
        ("{{/* x }}", "template: :1: unclosed comment"),
        ("{{/* x */ .y}}", "template: :1: comment ends before closing delimiter"),
        ("{{\"abc}}", "template: :1: unterminated quoted string"),
        ("{{`abc}}", "template: :1: unterminated raw quoted string"),
        ("{{'a}}", "template: :1: unterminated character constant"),
        ("{{(.x}}", "template: :1: unclosed left paren"),
        ("{{.x)}}", "template: :1: unexpected \")\" in command"),
        ("{{.x@}}", "template: :1: bad character U+0040 '@'"),
        ("{{3k}}", "template: :1: bad number syntax: \"3k\""),
        ("{{08}}", "template: :1: integer overflow: \"08\""),
        ("{{1__0}}", "template: :1: illegal number syntax: \"1__0\""),
        ("{{99999999999999999999}}", "template: :1: integer overflow: \"99999999999999999999\""),
        ("{{\"\\q\"}}", "template: :1: invalid syntax"),
        ("{{'ab'}}", "template: :1: malformed character constant: 'ab'"),
        ("{{.x | 1}}", "template: :1: non executable command in pipeline stage 2"),
        ("{{\"x\".y}}", "template: :1: unexpected . after term \"\\\"x\\\"\""),
        ("{{if .a}}{{else}}{{else}}{{end}}", "template: :1: expected end; found {{else}}"),
        ("{{if .a}}{{else with .b}}{{end}}", "template: :1: unexpected <with> in input"),
        ("{{end x}}", "template: :1: unexpected \"x\" in end"),
        ("{{template .x}}", "template: :1: unexpected \".x\" in template clause"),
        ("{{if .a}}{{define \"x\"}}{{end}}{{end}}", "template: :1: unexpected <define> in command"),
        ("{{$x, $y := .}}", "template: :1: too many declarations in command"),
        ("{{range $x, 3}}{{end}}", "template: :1: range can only initialize variables"),
        ("{{.x :}}", "template: :1: expected :="),
        ("{{.x \u{e9}}}", "template: :1: function \"é\" not defined"),
        ("{{define \"a\"}}x{{end}}{{define \"a\"}}y{{end}}", "template: :1: template: multiple definition of template \"a\""),
        ("line1\n{{end}}", "template: :2: unexpected {{end}}"),
        ("{.peername}}:7052", "template: :1: unexpected \"}}\" outside an action (no matching \"{{\"; Go would copy it literally, which is almost certainly not what was meant)"),
        ("{{.a}}}}", "template: :1: unexpected \"}}\" outside an action (no matching \"{{\"; Go would copy it literally, which is almost certainly not what was meant)"),
    ];
    let mismatches: Vec<String> = cases
        .iter()
        .filter(|(input, want)| err(input) != *want)
        .map(|(input, want)| format!("{input:?}: got {:?}, want {want:?}", err(input)))
        .collect();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn segments_and_trim_markers() {
    let t = parse("a {{- .x -}} b").unwrap();
    assert_eq!(t.segments(), &[Segment::Text("a".into()), Segment::Action, Segment::Text("b".into())]);
    assert!(!parse("{{/* c */}}x").unwrap().has_actions());
    assert!(!parse("x:1").unwrap().has_actions());
}
