"""Contact import through the staff UI with a real worker: upload, mapping on the preview, every
mode, the report with line numbers, the rejected rows' CSV, and the live progress stream."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import UTC, datetime

from sqlalchemy import insert, select, text

from tests.support.imports import rejects, start, upload, uploaded_job_id, wait_for_job
from webapp.contacts.models import Contact
from webapp.core.config import get_settings
from webapp.imports.models import ImportJob
from webapp.lists.models import EmailList, ListMember
from webapp.subscriptions.models import Subscription
from webapp.suppression.models import EMAIL_HASH_SQL, Suppression

MESSY = codecs.BOM_UTF8 + (
    b"E-mail;First name;Company;Tags;Plan\r\n"
    b"ada@example.com;Ada;Analytical Engines;vip, math;pro\r\n"
    b"\r\n"
    b"not-an-address;Bad;X;;\r\n"
    b'"grace@example.com";"Grace";"Navy; Research";"navy";\r\n'
    b"ADA@example.com;Ada again;Dup Ltd;;free\r\n"
    b'alan@example.com;Alan;"Bletchley\r\nPark";crypto;basic\r\n'
)


async def contacts_by_email(db) -> dict[str, Contact]:
    db.expire_all()
    return {c.email: c for c in await db.scalars(select(Contact))}


async def test_upload_shows_the_mapping_page_with_a_preview_and_guesses(db, staff):
    client = await staff("editor")
    job_id = uploaded_job_id(upload(client, MESSY))
    page = client.get(f"/contacts/import/{job_id}")
    assert page.status_code == 200
    html = page.text
    assert "CSV, UTF-8, semicolon-separated" in html
    assert "Navy; Research" in html and "Bletchley" in html  # quoted values, delimiter and newline inside
    assert '<option value="email" selected>' in html  # E-mail guessed
    assert '<option value="company" selected>' in html
    assert ">7</td>" in html  # the last row starts on physical line 7
    assert "the preview shows the first 5 rows." in html
    one_row = uploaded_job_id(upload(client, b"email\na@example.com\n"))
    assert "the preview shows the first row." in client.get(f"/contacts/import/{one_row}").text
    job = await db.get(ImportJob, job_id)
    assert job.headers == ["E-mail", "First name", "Company", "Tags", "Plan"]
    assert job.mapping == ["email", "first_name", "company", "tags", ""]
    assert job.status == "draft" and job.total == 5


async def test_a_header_naming_an_older_contacts_custom_field_is_matched_to_it(db, monkeypatch):
    """The mapping menu's names come from the newest contacts; a header naming a field only older
    contacts have (an export of them, imported back) still maps to that field."""
    from webapp.imports.queries import jobs as job_queries
    from webapp.imports.service import jobs
    from webapp.imports.service.rows import guess_mapping

    monkeypatch.setattr(job_queries, "CUSTOM_KEYS_NEWEST", 1)  # the newest contact alone: the sample misses Plan
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    await db.execute(
        insert(Contact),
        [
            {"email": "old@example.com", "custom_fields": {"Plan": "gold"}, "date_added": long_ago},
            {"email": "new@example.com", "custom_fields": {"shoe_size": 42}},
        ],
    )
    headers = ["email", "Plan", "Shoe size", "Hat"]
    assert guess_mapping(headers, await jobs.custom_keys_for(db, headers)) == [
        "email",
        "custom:Plan",
        "custom:shoe_size",
        "",
    ]


async def test_upload_problems_come_back_next_to_the_field(db, staff):
    client = await staff("editor")
    for files, message in [
        (None, "Choose a CSV or XLSX file to upload."),
        ({"file": ("old.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 64, "application/vnd.ms-excel")}, "Old Excel files (.xls)"),
        ({"file": ("notes.pdf", b"%PDF-1.4", "application/pdf")}, "Choose a .csv or .xlsx file."),
        ({"file": ("empty.csv", b"", "text/csv")}, "The file is empty."),
    ]:
        response = client.post("/contacts/import", files=files or {"other": ("x", b"", "text/plain")})
        assert response.status_code == 422
        assert message in response.text and 'class="field-error" id="file-error"' in response.text
    assert await db.scalar(select(ImportJob.id)) is None


async def test_viewers_see_imports_but_cannot_upload_or_start(db, staff):
    editor = await staff("editor")
    job_id = uploaded_job_id(upload(editor, MESSY))
    viewer = await staff("viewer")
    page = viewer.get("/contacts/import")
    assert page.status_code == 200 and "import-upload" not in page.text
    assert "<h1>Imports</h1>" in page.text and "Editors and admins import contacts." in page.text
    assert ">Imports</a></li>" in page.text  # the menu says what a viewer finds there
    assert upload(viewer, MESSY).status_code == 403
    assert start(viewer, job_id, {0: "email"}).status_code == 403
    assert "Start import" not in viewer.get(f"/contacts/import/{job_id}").text


async def test_mapping_without_an_email_column_is_refused_and_keeps_the_choices(db, staff):
    client = await staff("editor")
    job_id = uploaded_job_id(upload(client, MESSY))
    response = start(client, job_id, {0: "", 1: "first_name", 2: "first_name", 4: ("custom:", "9lives")})
    assert response.status_code == 422
    html = response.text
    assert 'id="email-error" role="alert">Choose the column that holds the email addresses.' in html
    assert "Column 2 goes to this field already." in html
    assert "Name the custom field with letters, digits and underscores" in html
    assert 'value="9lives"' in html  # what was typed is kept
    assert (await db.get(ImportJob, job_id)).status == "draft"


async def test_a_second_press_of_start_shows_the_import_it_started(db, staff):
    client = await staff("editor")
    job_id = uploaded_job_id(upload(client, MESSY))
    first = start(client, job_id, {0: "email"})
    again = start(client, job_id, {0: "email"})  # a double click: the first is queued already
    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == first.headers["location"] == f"/contacts/import/{job_id}"
    assert (await db.get(ImportJob, job_id)).status == "queued"


async def test_add_mode_imports_good_rows_and_reports_the_rest_with_line_numbers(db, staff, worker):
    db.add(Contact(email="grace@example.com", first_name="Grace H", company="Old Co"))
    await db.commit()
    client = await staff("editor")
    job_id = uploaded_job_id(upload(client, MESSY))
    response = start(client, job_id, {0: "email", 1: "first_name", 2: "company", 3: "tags", 4: ("custom:", "plan")})
    assert response.status_code == 303 and response.headers["location"] == f"/contacts/import/{job_id}"
    worker("import-worker")
    job = await wait_for_job(db, job_id)
    assert (job.status, job.total, job.inserted, job.updated, job.skipped, job.duplicates, job.rejected) == (
        "done",
        5,
        2,
        0,
        2,
        1,
        1,
    )
    people = await contacts_by_email(db)
    assert sorted(people) == ["ada@example.com", "alan@example.com", "grace@example.com"]
    ada = people["ada@example.com"]
    assert (ada.first_name, ada.company, ada.tags, ada.custom_fields) == (
        "Ada",
        "Analytical Engines",
        ["vip", "math"],
        {"plan": "pro"},
    )  # the first row wins over line 6
    assert people["alan@example.com"].company == "Bletchley\r\nPark"
    assert people["grace@example.com"].company == "Old Co"  # add mode leaves existing contacts alone
    assert await rejects(db, job_id) == [
        (4, "rejected", "not-an-address", "An email address must have an @-sign."),
        (6, "duplicate", "ADA@example.com", "Same address as line 2."),
    ]
    report = client.get(f"/contacts/import/{job_id}").text
    assert 'id="reject-line-4"' in report and "An email address must have an @-sign." in report
    assert "Same address as line 2." in report
    download = client.get(f"/contacts/import/{job_id}/rejects.csv")
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows == [
        ["line", "problem", "reason", "E-mail", "First name", "Company", "Tags", "Plan"],
        ["4", "rejected", "An email address must have an @-sign.", "not-an-address", "Bad", "X", "", ""],
        ["6", "repeated", "Same address as line 2.", "ADA@example.com", "Ada again", "Dup Ltd", "", "free"],
    ]
    stored = await db.scalar(select(ImportJob.stored_name).where(ImportJob.id == job_id))
    assert not (get_settings().imports.upload_dir / stored).exists()  # the worker deletes the file when done


async def test_a_row_with_a_nul_character_is_rejected_and_the_good_rows_import(db, staff, worker):
    """The file's sniffing sees only its start: a NUL further on reaches the rows."""
    good = "".join(f"person{i}@example.com,Person {i}\n" for i in range(60))
    data = f"email,first_name\n{good}odd@example.com,a\x00b\nnul\x00@example.com,c\n".encode()
    client = await staff("editor")
    job_id = uploaded_job_id(upload(client, data))
    start(client, job_id, {0: "email", 1: "first_name"})
    worker("import-worker")
    job = await wait_for_job(db, job_id)
    assert (job.status, job.inserted, job.rejected) == ("done", 60, 2)
    assert [(line, kind, email) for line, kind, email, _ in await rejects(db, job_id)] == [
        (62, "rejected", "odd@example.com"),
        (63, "rejected", "nul\ufffd@example.com"),
    ]
    rows = list(
        csv.reader(io.StringIO(client.get(f"/contacts/import/{job_id}/rejects.csv").content.decode("utf-8-sig")))
    )
    assert rows[1][-1] == "a\ufffdb"


async def test_a_column_without_a_name_is_offered_as_column_n_and_ignoring_it_imports_every_row(db, staff, worker):
    data = b"email,first_name,\nunnamed1@example.com,A,extra\nunnamed2@example.com,B,\n"
    client = await staff("editor")
    job_id = uploaded_job_id(upload(client, data))
    assert "Column 3" in client.get(f"/contacts/import/{job_id}").text  # mapped like any other: here, ignored
    start(client, job_id, {0: "email", 1: "first_name"})
    worker("import-worker")
    job = await wait_for_job(db, job_id)
    assert (job.status, job.inserted, job.rejected) == ("done", 2, 0)


async def test_the_rejected_rows_file_keeps_a_spreadsheet_from_running_their_formulas(db, staff, worker):
    data = b'email,+notes\n=bad@x,"=HYPERLINK(""http://x"")"\nok@example.com,fine\n'
    client = await staff("editor")
    job_id = uploaded_job_id(upload(client, data))
    start(client, job_id, {0: "email"})
    worker("import-worker")
    assert (await wait_for_job(db, job_id)).rejected == 1
    download = client.get(f"/contacts/import/{job_id}/rejects.csv").content.decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(download)))
    assert header[3:] == ["email", "'+notes"]
    assert row[3:] == ["'=bad@x", '\'=HYPERLINK("http://x")']  # as the contacts export writes them


async def test_a_quote_never_closed_is_reported_at_its_line_instead_of_swallowing_the_rows_after_it(db, staff, worker):
    data = b'email,first_name\nann@example.com,Ann\nbob@example.com,"Bob\nsam@example.com,Sam\n'
    client = await staff("editor")
    job_id = uploaded_job_id(upload(client, data))
    start(client, job_id, {0: "email", 1: "first_name"})
    worker("import-worker")
    job = await wait_for_job(db, job_id)
    assert (job.status, job.inserted, job.rejected) == ("done", 1, 1)
    [(line, kind, _, reason)] = await rejects(db, job_id)
    assert (line, kind) == (3, "rejected")
    assert reason.startswith("A quoted value starts on this line and is never closed, so the 2 lines from here")
    download = client.get(f"/contacts/import/{job_id}/rejects.csv").content.decode("utf-8-sig")
    [_, kept] = list(csv.reader(io.StringIO(download)))
    assert kept[:2] == ["3", "rejected"] and kept[3] == 'bob@example.com,"Bob\nsam@example.com,Sam'  # as typed, to fix
    report = client.get(f"/contacts/import/{job_id}").text
    assert "is never closed" in report and "Every row was read without a problem" not in report
    assert sorted(await contacts_by_email(db)) == ["ann@example.com"]


async def test_upsert_updates_existing_contacts_merging_tags_and_custom_fields(db, staff, worker):
    db.add_all(
        [
            Contact(
                email="ada@example.com",
                first_name="Countess",
                last_name="Lovelace",
                tags=["old", "vip"],
                custom_fields={"plan": "free", "since": "1843"},
            ),
            Contact(email="same@example.com", first_name="Same", tags=["x"]),
        ]
    )
    await db.commit()
    client = await staff("editor")
    body = (
        b"email,first_name,last_name,tags,plan\nADA@example.com,Ada,,new;vip,pro\n"
        b"same@example.com,Same,,x,\nnew@example.com,New,Person,,\n"
    )
    job_id = uploaded_job_id(upload(client, body))
    assert (
        start(
            client,
            job_id,
            {0: "email", 1: "first_name", 2: "last_name", 3: "tags", 4: ("custom:", "plan")},
            mode="upsert",
        ).status_code
        == 303
    )
    worker("import-worker")
    job = await wait_for_job(db, job_id)
    assert (job.inserted, job.updated, job.skipped, job.rejected) == (1, 1, 1, 0)  # same@ had nothing new
    people = await contacts_by_email(db)
    ada = people["ada@example.com"]
    assert ada.first_name == "Ada" and ada.last_name == "Lovelace"  # an empty cell keeps what was there
    assert ada.tags == ["old", "vip", "new"]
    assert ada.custom_fields == {"plan": "pro", "since": "1843"}
    assert (people["new@example.com"].first_name, people["new@example.com"].last_name) == ("New", "Person")


async def test_upsert_refuses_a_row_whose_tags_would_take_its_contact_past_the_limit(db, staff, worker):
    """Tags are merged with the contact's: a row that would leave more than MAX_TAGS is reported with
    its line and kept for the rejected rows' file, and the rows beside it are written."""
    db.add_all(
        [
            Contact(email="full@example.com", first_name="Old", tags=[f"t{n}" for n in range(99)]),
            Contact(email="room@example.com", tags=[f"t{n}" for n in range(99)]),
        ]
    )
    await db.commit()
    client = await staff("editor")
    body = (
        b"email,first_name,tags\n"
        b"full@example.com,New,a;b\n"  # 101 once merged
        b"room@example.com,Roomy,t1;c\n"  # 100: t1 it has already
        b"fresh@example.com,Fresh,a;b\n"
    )
    job_id = uploaded_job_id(upload(client, body))
    assert start(client, job_id, {0: "email", 1: "first_name", 2: "tags"}, mode="upsert").status_code == 303
    worker("import-worker")
    job = await wait_for_job(db, job_id)
    assert (job.inserted, job.updated, job.skipped, job.rejected) == (1, 1, 0, 1)
    [(line, kind, email, reason)] = await rejects(db, job_id)
    assert (line, kind, email) == (2, "rejected", "full@example.com")
    assert reason.startswith("With this row's tags the contact would have 101. At most 100 tags")
    people = await contacts_by_email(db)
    assert people["full@example.com"].first_name == "Old" and len(people["full@example.com"].tags) == 99
    assert len(people["room@example.com"].tags) == 100 and people["room@example.com"].first_name == "Roomy"
    download = client.get(f"/contacts/import/{job_id}/rejects.csv").content.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(download)))[1][3:] == ["full@example.com", "New", "a;b"]


async def test_upsert_of_two_addresses_only_postgresql_takes_for_the_same_does_not_fail(db, staff, worker):
    # Python lowers "İ" to "i̇" (two characters), PostgreSQL to "i": the repeat check (in Python)
    # keeps both rows, and the statement that updates must not meet one contact twice.
    client = await staff("editor")
    body = "email,first_name\nİa@example.com,First\nia@example.com,Second\n".encode()
    job_id = uploaded_job_id(upload(client, body))
    assert start(client, job_id, {0: "email", 1: "first_name"}, mode="upsert").status_code == 303
    worker("import-worker")
    job = await wait_for_job(db, job_id)
    assert job.status == "done"
    assert (job.inserted, job.updated, job.skipped, job.rejected) == (1, 0, 1, 0)
    assert [c.first_name for c in (await contacts_by_email(db)).values()] == ["First"]


async def test_list_mode_adds_new_and_existing_contacts_to_a_static_list(db, staff, worker):
    newsletter = EmailList(name="Newsletter")
    segment = EmailList(name="Rules", list_type="dynamic", rules={"operator": "AND", "conditions": []})
    db.add_all([newsletter, segment, Contact(email="old@example.com"), Contact(email="member@example.com")])
    await db.flush()
    member = await db.scalar(select(Contact.id).where(Contact.email == "member@example.com"))
    newsletter_id, segment_id = newsletter.id, segment.id
    db.add(ListMember(list_id=newsletter_id, contact_id=member))
    await db.commit()
    client = await staff("editor")
    assert f'href="/contacts/import?list_id={newsletter_id}"' in client.get(f"/lists/{newsletter_id}").text
    assert f'name="list_id" value="{newsletter_id}"' in client.get(f"/contacts/import?list_id={newsletter_id}").text
    body = b"Email\nold@example.com\nmember@example.com\nfresh@example.com\n"
    job_id = uploaded_job_id(upload(client, body, list_id=str(newsletter_id)))
    mapping_page = client.get(f"/contacts/import/{job_id}").text  # coming from the list: its mode and list chosen
    assert 'value="list" checked' in mapping_page and f'<option value="{newsletter_id}" selected>' in mapping_page
    refused = start(client, job_id, {0: "email"}, mode="list", list_id=str(segment_id))
    assert refused.status_code == 422 and "contacts are added to static lists only" in refused.text
    assert start(client, job_id, {0: "email"}, mode="list", list_id=str(newsletter_id)).status_code == 303
    worker("import-worker")
    job = await wait_for_job(db, job_id)
    assert (job.inserted, job.updated, job.skipped) == (1, 1, 1)  # fresh created; old added; member there already
    members = await db.scalars(
        select(Contact.email)
        .join(ListMember, ListMember.contact_id == Contact.id)
        .where(ListMember.list_id == newsletter_id)
        .order_by(Contact.email)
    )
    assert list(members) == ["fresh@example.com", "member@example.com", "old@example.com"]
    db.expire_all()
    assert (await db.get(EmailList, newsletter_id)).contact_count == 3
    sources = await db.scalars(select(Subscription.source).where(Subscription.list_id == newsletter_id))
    assert sorted(sources) == ["import: contacts.csv", "import: contacts.csv"]  # the two that joined now


async def test_unsubscribe_mode_marks_listed_contacts_and_leaves_bounced_ones(db, staff, worker):
    db.add_all(
        [
            Contact(email="a@example.com"),
            Contact(email="b@example.com", status="bounced"),
            Contact(email="c@example.com"),
        ]
    )
    await db.commit()
    client = await staff("editor")
    job_id = uploaded_job_id(upload(client, b"name,email\nA,A@example.com\nB,b@example.com\nZ,nobody@example.com\n"))
    assert start(client, job_id, {1: "email"}, mode="unsubscribe").status_code == 303
    worker("import-worker")
    job = await wait_for_job(db, job_id)
    assert (job.updated, job.skipped, job.inserted) == (1, 2, 0)
    statuses = {c.email: c.status for c in (await contacts_by_email(db)).values()}
    assert statuses == {"a@example.com": "unsubscribed", "b@example.com": "bounced", "c@example.com": "active"}
    assert "nobody@example.com" in {s.email for s in await db.scalars(select(Suppression))}  # no contact: suppressed
    report = " ".join(client.get(f"/contacts/import/{job_id}").text.split())
    assert "not contacts (every address listed is on the suppression list now, theirs too)" in report


async def test_suppress_mode_adds_hashed_entries_with_the_chosen_reason(db, staff, worker):
    await db.execute(
        text(
            f"INSERT INTO suppressions (email_hash, email, reason) VALUES ({EMAIL_HASH_SQL.format(':e')}, :e, 'bounce')"
        ),
        {"e": "old@example.com"},
    )
    await db.commit()
    client = await staff("editor")
    job_id = uploaded_job_id(upload(client, b"email\nOld@example.com\nnew@example.com\nbroken\n"))
    assert start(client, job_id, {0: "email"}, mode="suppress", reason="compliance").status_code == 303
    worker("import-worker")
    job = await wait_for_job(db, job_id)
    assert (job.inserted, job.skipped, job.rejected) == (1, 1, 1)
    entries = {s.email: s.reason for s in await db.scalars(select(Suppression))}
    assert entries == {"old@example.com": "bounce", "new@example.com": "compliance"}  # the first reason stays
    matched = await db.scalar(
        text(f"SELECT email FROM suppressions WHERE email_hash = {EMAIL_HASH_SQL.format(':e')}"),
        {"e": "NEW@EXAMPLE.COM"},
    )
    assert matched == "new@example.com"


async def test_progress_stream_sends_the_report_and_closes(db, staff, worker):
    client = await staff("editor")
    job_id = uploaded_job_id(upload(client, MESSY))
    start(client, job_id, {0: "email"})
    worker("import-worker")
    await wait_for_job(db, job_id)
    with client.stream("GET", f"/contacts/import/{job_id}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        body = "".join(response.iter_text())
    assert "event: progress" in body and "event: done" in body
    assert f'id="import-{job_id}-progress"' in body and 'data-status="done"' in body
    assert "Same address as line 2." in body  # the report arrives with the last update


async def test_xlsx_upload_imports_with_sheet_row_numbers(db, staff, worker):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Email", "First name", "Score"])
    sheet.append(["ada@example.com", "Ada", 42])
    sheet.append([None])
    sheet.append(["nope", "Bad", 1])
    buffer = io.BytesIO()
    workbook.save(buffer)
    client = await staff("editor")
    job_id = uploaded_job_id(upload(client, buffer.getvalue(), "people.xlsx"))
    assert start(client, job_id, {0: "email", 1: "first_name", 2: ("custom:", "score")}).status_code == 303
    worker("import-worker")
    job = await wait_for_job(db, job_id)
    assert (job.inserted, job.rejected) == (1, 1)
    assert (await contacts_by_email(db))["ada@example.com"].custom_fields == {"score": "42"}
    assert [(line, kind) for line, kind, _, _ in await rejects(db, job_id)] == [(4, "rejected")]


async def test_drafts_nobody_started_are_deleted_with_their_file_a_day_later(db, staff):
    client = await staff("editor")
    old_id = uploaded_job_id(upload(client, MESSY, "old.csv"))
    stored = await db.scalar(select(ImportJob.stored_name).where(ImportJob.id == old_id))
    path = get_settings().imports.upload_dir / stored
    assert path.exists()
    await db.execute(
        text("UPDATE import_jobs SET created_at = now() - interval '25 hours' WHERE id = :id"), {"id": old_id}
    )
    await db.commit()
    new_id = uploaded_job_id(upload(client, MESSY, "new.csv"))
    assert await db.scalar(select(ImportJob.id).where(ImportJob.id == old_id)) is None
    assert not path.exists()
    assert client.get(f"/contacts/import/{old_id}").status_code == 404
    discard = client.post(f"/contacts/import/{new_id}/discard")  # an editor can also throw a draft away
    assert discard.status_code == 303 and discard.headers["location"] == "/contacts/import"
    db.expire_all()
    assert await db.scalar(select(ImportJob.id)) is None


async def test_the_started_message_lives_in_the_progress_and_a_finished_import_links_to_what_it_imported(
    db, staff, worker
):
    newsletter = EmailList(name="Spring <Newsletter>")
    db.add(newsletter)
    await db.commit()
    client = await staff("editor")
    queued = uploaded_job_id(upload(client, b"email\nfirst@example.com\n"))
    assert start(client, queued, {0: "email"}).status_code == 303
    waiting = client.get(f"/contacts/import/{queued}").text  # no worker yet
    started = "Importing contacts.csv: you can leave this page, the import carries on."
    progress = waiting[waiting.index(f'id="import-{queued}-progress"') :]
    assert started in progress  # in the live part, which the report replaces
    worker("import-worker")
    await wait_for_job(db, queued)

    cases = [
        ("add", {}, '<a href="/contacts">See the contacts, newest first</a>'),
        ("upsert", {}, '<a href="/contacts?sort=updated">See the contacts, most recently updated first</a>'),
        (
            "list",
            {"list_id": str(newsletter.id)},
            f'<a href="/lists/{newsletter.id}">Open Spring &lt;Newsletter&gt;</a>',
        ),
        (
            "unsubscribe",
            {},
            '<a href="/contacts?status=unsubscribed&amp;sort=updated">'
            "See the unsubscribed contacts, most recently changed first</a>",
        ),
        ("suppress", {"reason": "manual"}, '<a href="/suppression">Open the suppression list</a>'),
    ]
    for mode, extra, link in cases:
        job_id = uploaded_job_id(upload(client, b"email\nsomeone@example.com\n"))
        assert start(client, job_id, {0: "email"}, mode=mode, **extra).status_code == 303, mode
        await wait_for_job(db, job_id)
        page = client.get(f"/contacts/import/{job_id}").text  # the first page after starting it
        assert "carries on" not in page, mode  # the work is done: no banner says it is going on
        report = page[page.index('class="import-report"') :]
        assert link in report, (mode, report[:600])


async def test_a_file_with_only_its_header_says_so_before_and_after(db, staff, worker):
    client = await staff("editor")
    job_id = uploaded_job_id(upload(client, b"email,first_name\n"))
    mapping = client.get(f"/contacts/import/{job_id}").text
    assert "no rows." in mapping and "not counted yet" not in mapping
    start(client, job_id, {0: "email", 1: "first_name"})
    worker("import-worker")
    job = await wait_for_job(db, job_id)
    assert (job.status, job.total, job.inserted) == ("done", 0, 0)
    report = client.get(f"/contacts/import/{job_id}").text
    assert "The file has no rows below its header: nothing was imported." in report
    assert "Every row was read without a problem" not in report
