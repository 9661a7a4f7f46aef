"""exports.submissions: a form definition's columns and a submission's rows in ODK Central's
layout, on XML alone (groups, nested repeats, relative refs, a repeat's template, several
versions)."""

from __future__ import annotations

from exports import submissions
from exports.submissions import Meta

XFORM = b"""<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
        xmlns:jr="http://openrosa.org/javarosa">
  <h:head><h:title>Household</h:title>
    <model>
      <instance>
        <survey id="household" version="2">
          <site/>
          <crops/>
          <household>
            <member jr:template="">
              <details><name/><home/></details>
              <visit><day/></visit>
            </member>
          </household>
          <photo/>
          <meta><instanceID/></meta>
        </survey>
      </instance>
      <instance id="extra"><root><item><name>a</name></item></root></instance>
      <bind nodeset="/survey/site" type="geopoint"/>
      <bind nodeset="/survey/crops" type="string"/>
      <bind nodeset="/survey/household/member/details/home" type="geopoint"/>
      <bind nodeset="/survey/household/member/visit/day" type="date"/>
      <bind nodeset="/survey/photo" type="binary"/>
      <bind nodeset="/survey/meta/instanceID" type="string"/>
    </model>
  </h:head>
  <h:body>
    <input ref="/survey/site"/>
    <select ref="/survey/crops"><item><value>yam</value></item></select>
    <group ref="/survey/household">
      <repeat nodeset="/survey/household/member">
        <group ref="details"><input ref="name"/><input ref="home"/></group>
        <repeat nodeset="visit"><input ref="day"/></repeat>
      </repeat>
    </group>
    <upload ref="/survey/photo" mediatype="image/*"/>
  </h:body>
</h:html>"""

INSTANCE = b"""<survey id="household" version="2">
  <site>-9.43 147.37 52.5 4.0</site>
  <crops>yam taro</crops>
  <household>
    <member><details><name>Ana</name><home>-9.4 147.3</home></details>
      <visit><day>2024-05-01</day></visit><visit><day>2024-05-09</day></visit></member>
    <member><details><name>Ben</name><home/></details></member>
  </household>
  <photo>1.jpg</photo>
  <meta><instanceID>uuid:h1</instanceID></meta>
</survey>"""

META = Meta(instance_id="uuid:h1", submission_date="2024-05-10T00:00:00.000Z", form_version="2", edits=1)


def layout() -> list[submissions.Table]:
    return submissions.tables(submissions.form_tree(XFORM), "household")


def test_columns_follow_the_form() -> None:
    main, members, visits = layout()
    assert [t.name for t in (main, members, visits)] == ["household", "household-member", "household-visit"]
    assert main.header == [
        "SubmissionDate",
        "site-Latitude",
        "site-Longitude",
        "site-Altitude",
        "site-Accuracy",
        "crops",
        "photo",
        "meta-instanceID",
        *submissions.META_COLUMNS,
    ]
    assert members.header == [
        "details-name",
        "details-home-Latitude",
        "details-home-Longitude",
        "details-home-Altitude",
        "details-home-Accuracy",
        "PARENT_KEY",
        "KEY",
    ]
    assert visits.header == ["day", "PARENT_KEY", "KEY"]
    assert [t.sheet for t in (main, members, visits)] == ["household", "member", "visit"]


def test_rows_are_keyed_as_central_keys_them() -> None:
    tables = layout()
    rows = [
        (table.name, dict(zip(table.header, row, strict=True)))
        for table, row in submissions.rows_of(tables, submissions.parse(INSTANCE), META)
    ]
    assert [name for name, _ in rows] == [
        "household",
        "household-member",
        "household-visit",
        "household-visit",
        "household-member",
    ]
    main = rows[0][1]
    assert (main["site-Latitude"], main["site-Longitude"], main["site-Altitude"], main["site-Accuracy"]) == (
        "-9.43",
        "147.37",
        "52.5",
        "4.0",
    )
    assert (main["crops"], main["photo"], main["KEY"], main["Edits"], main["FormVersion"]) == (
        "yam taro",
        "1.jpg",
        "uuid:h1",
        "1",
        "2",
    )
    ana, first, second, ben = (row for _, row in rows[1:])
    assert (ana["details-name"], ana["details-home-Altitude"]) == ("Ana", "")
    assert (ana["PARENT_KEY"], ana["KEY"]) == ("uuid:h1", "uuid:h1/household/member[1]")
    assert (first["day"], first["PARENT_KEY"], first["KEY"]) == (
        "2024-05-01",
        "uuid:h1/household/member[1]",
        "uuid:h1/household/member[1]/visit[1]",
    )
    assert second["KEY"] == "uuid:h1/household/member[1]/visit[2]"
    assert (ben["details-name"], ben["KEY"]) == ("Ben", "uuid:h1/household/member[2]")


def test_an_unreadable_record_keeps_its_metadata_row() -> None:
    rows = list(submissions.rows_of(layout(), None, META))
    assert len(rows) == 1
    table, row = rows[0]
    assert row[table.header.index("KEY")] == "uuid:h1"
    assert row[table.header.index("crops")] == ""


def test_versions_give_the_union_of_their_fields() -> None:
    older = XFORM.replace(b"<crops/>", b"<crops/><rain/>").replace(b"<photo/>", b"")
    tree = submissions.merge([submissions.form_tree(XFORM), submissions.form_tree(older)])
    main = submissions.tables(tree, "household")[0]
    fields = main.header[1 : -len(submissions.META_COLUMNS)]
    assert fields == [
        "site-Latitude",
        "site-Longitude",
        "site-Altitude",
        "site-Accuracy",
        "crops",
        "photo",
        "meta-instanceID",
        "rain",
    ]


def test_select_multiples_split_on_request() -> None:
    items = b'<select ref="/survey/crops"><item><value>yam</value></item></select>'
    itemset = (
        b'<select ref="/survey/crops"><itemset nodeset="instance(\'crops\')/root/item">'
        b'<value ref="code"/></itemset></select>'
    )
    extra = (
        b'<instance id="crops"><root><item><code>yam</code></item><item><code>taro</code></item>'
        b"</root></instance>"
    )
    for xml, choices in (
        (XFORM, ["yam"]),
        (
            XFORM.replace(items, itemset).replace(b'<instance id="extra">', extra + b'<instance id="extra">'),
            ["yam", "taro"],
        ),
    ):
        main = submissions.tables(submissions.form_tree(xml), "household", split_select_multiples=True)[0]
        columns = main.header[main.header.index("crops") : main.header.index("photo")]
        assert columns == ["crops", *(f"crops-{c}" for c in choices)]
        row = dict(
            zip(
                main.header,
                next(submissions.rows_of([main], submissions.parse(INSTANCE), META))[1],
                strict=True,
            )
        )
        assert [row[c] for c in columns] == ["yam taro", *("1" for _ in choices)]
    empty = INSTANCE.replace(b"<crops>yam taro</crops>", b"<crops/>")
    row = dict(
        zip(main.header, next(submissions.rows_of([main], submissions.parse(empty), META))[1], strict=True)
    )
    assert (row["crops"], row["crops-yam"], row["crops-taro"]) == ("", "", "")
    assert "crops-yam" not in submissions.tables(submissions.form_tree(XFORM), "household")[0].header


def test_file_names_are_safe() -> None:
    names = [t.name for t in submissions.tables(submissions.form_tree(XFORM), "a/b\\c..")]
    assert names == ["a_b_c", "a_b_c..-member", "a_b_c..-visit"]


def test_group_paths_may_be_left_out() -> None:
    main, members, _ = submissions.tables(submissions.form_tree(XFORM), "household", group_paths=False)
    assert main.header[-len(submissions.META_COLUMNS) - 1] == "instanceID"
    assert members.header[:2] == ["name", "home-Latitude"]
