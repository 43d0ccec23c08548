"""How staff must sign in, as admins decide for everyone: whether two-step sign-in is required.

Where it is, someone signed in without it may do nothing but set it up or sign out (core/security.py
sends every other page to the setup), and may not turn theirs off. API keys are not people and are
not asked. An admin may still turn it off for someone who lost their phone and codes: they set it
up again at their next page."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.settings.service import stored

KEY = "staff_sign_in"


async def two_step_required(session: AsyncSession) -> bool:
    return bool((await stored.load(session, KEY)).get("two_step_required"))


async def require_two_step(session: AsyncSession, required: bool) -> None:
    await stored.save(session, KEY, {"two_step_required": required})
