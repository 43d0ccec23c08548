"""The media library: images checked and cleaned in an isolated process (photos lose their EXIF,
only PNG, JPEG, GIF and WebP by their content), stored once per content, served for ever from an
address of their own, and not deleted while a campaign or template still shows them."""

from __future__ import annotations

import io

import httpx
from PIL import Image, PngImagePlugin
from sqlalchemy import select

from tests.support.campaigns import audience, ready_campaign
from webapp.campaigns.models import Campaign
from webapp.media import service as media
from webapp.media.models import MediaFile

ARTIST, ORIENTATION = 0x013B, 0x0112


def png(width: int = 40, height: int = 20, *, text: str = "", mode: str = "RGB") -> bytes:
    image = Image.new(mode, (width, height), "red" if mode == "RGB" else 1)
    info = PngImagePlugin.PngInfo()
    if text:
        info.add_text("Author", text)
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def photo() -> bytes:
    """A JPEG 60 wide and 30 high whose EXIF names its author and says to turn it (orientation 6)."""
    exif = Image.Exif()
    exif[ARTIST], exif[ORIENTATION] = "Jane Photographer", 6
    out = io.BytesIO()
    Image.new("RGB", (60, 30), "blue").save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (8, 8)).save(out, "GIF", comment=b"kept as it is")
    return out.getvalue()


def upload(client: httpx.Client, data: bytes, name: str = "logo.png", alt: str = "Our logo") -> httpx.Response:
    return client.post("/api/media", files={"file": (name, data, "image/png")}, data={"alt": alt})


async def test_images_are_checked_cleaned_and_stored_once(db, api):
    client = await api("editor")
    logo = upload(client, png(text="Jane Doe, 1 Secret Lane"))
    assert logo.status_code == 201, logo.text
    body = logo.json()
    assert (body["name"], body["alt"], body["content_type"], body["width"], body["height"]) == (
        "logo.png",
        "Our logo",
        "image/png",
        40,
        20,
    )
    assert body["url"].endswith(".png") and "/u/media/" in body["url"]
    stored = await db.scalar(select(MediaFile.data).where(MediaFile.id == body["id"]))
    assert b"Secret Lane" not in stored and Image.open(io.BytesIO(stored)).size == (40, 20)
    assert upload(client, png(text="Jane Doe, 1 Secret Lane")).json()["id"] == body["id"]  # the same image

    turned = upload(client, photo(), "holiday.jpg", "").json()
    assert (turned["content_type"], turned["width"], turned["height"]) == ("image/jpeg", 30, 60)  # as EXIF said
    kept = await db.scalar(select(MediaFile.data).where(MediaFile.id == turned["id"]))
    assert b"Jane Photographer" not in kept and not Image.open(io.BytesIO(kept)).getexif()

    animation = gif()
    as_is = upload(client, animation, "dance.gif").json()
    assert await db.scalar(select(MediaFile.data).where(MediaFile.id == as_is["id"])) == animation


async def test_what_is_not_a_usable_image_is_refused_naming_the_file(api):
    client = await api("editor")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for data, name in ((svg, "logo.svg"), (b"%PDF-1.7 not an image", "report.png"), (png()[:60], "cut.png")):
        refused = upload(client, data, name)
        assert refused.status_code == 422, name
        assert refused.json()["errors"] == [{"field": "file", "message": media.images.NOT_AN_IMAGE}], name
    huge = upload(client, png(7000, 7000, mode="1"), "huge.png")  # small as a file, 49 megapixels decoded
    assert huge.status_code == 422 and "megapixels" in huge.text
    too_big = upload(client, b"\x89PNG" + bytes(media.MAX_BYTES), "big.png")
    assert too_big.status_code == 422 and "larger than 5 MB" in too_big.text
    too_long = upload(client, png(), alt="x" * 301)
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "alt"
    missing = client.post("/api/media", data={"alt": "nothing"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "file"


async def test_an_image_is_served_for_ever_from_its_address(api, live_server):
    client = await api("editor")
    body = upload(client, png()).json()
    path = body["url"].split("://", 1)[1].split("/", 1)[1]

    shown = httpx.get(f"{live_server}/{path}")
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(shown.content)).size == (40, 20)
    assert shown.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert (
        shown.headers["x-content-type-options"] == "nosniff" and "sandbox" in shown.headers["content-security-policy"]
    )
    again = httpx.get(f"{live_server}/{path}", headers={"If-None-Match": shown.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    assert httpx.get(f"{live_server}/{path.replace('.png', '.gif')}").status_code == 404
    assert httpx.get(f"{live_server}/u/media/{'0' * 32}.png").status_code == 404
    assert httpx.get(f"{live_server}/u/media/..%2F..%2Fetc%2Fpasswd").status_code == 404


async def test_an_image_in_use_is_not_deleted(db, api, staff):
    client, viewer = await api("editor"), await api("viewer")
    body = upload(client, png()).json()
    email_list = await audience(db, 1)
    html = f'<html><body><img src="{body["url"]}" alt="Our logo"></body></html>'
    campaign_id = (await ready_campaign(db, [email_list.id], name="Spring sale", html_content=html)).id
    await db.commit()

    assert viewer.delete(f"/api/media/{body['id']}").status_code == 403
    in_use = client.delete(f"/api/media/{body['id']}")
    assert in_use.status_code == 409 and "campaign “Spring sale”" in in_use.json()["detail"]
    editor = await staff("editor")
    page = editor.post(f"/media/{body['id']}/delete")
    assert page.status_code == 303 and "Still used in campaign “Spring sale”" in editor.get("/media").text

    campaign = await db.get(Campaign, campaign_id)  # its content changes: the image is no longer used
    assert campaign is not None
    campaign.html_content = "<p>No image</p>"
    await db.commit()
    assert client.delete(f"/api/media/{body['id']}").status_code == 204
    assert client.get("/api/media").json()["items"] == []


async def test_staff_upload_several_images_on_the_page_and_a_bad_one_is_named(db, staff):
    editor, viewer = await staff("editor"), await staff("viewer")
    files = [("file", ("a.png", png(10, 10), "image/png")), ("file", ("notes.txt", b"hello", "text/plain"))]
    refused = editor.post("/media", files=files, data={"alt": "Team photo"})
    assert refused.status_code == 422
    assert "notes.txt: Not an image we can use" in refused.text and 'value="Team photo"' in refused.text
    assert "Uploaded a.png. Not uploaded: notes.txt:" in refused.text  # what happened to each file
    shown = editor.get("/media").text
    assert "a.png" in shown and "10 × 10" in shown  # the good file was kept
    assert "&lt;img src=&#34;" in shown or "&lt;img src=&quot;" in shown  # its HTML, to copy
    assert viewer.post("/media", files=files).status_code == 403
    assert "Upload" not in viewer.get("/media").text.split("<main", 1)[1].split("media-grid")[0]
