"""workers are told the moment a contact may no longer be mailed (it opted out, was switched off,
deleted or erased, or its address was suppressed), so a message of a batch already claimed, still
waiting for its turn at a server, is not handed over (webapp/delivery/watch.py)

The payload is the contact's id. One transaction that takes more than OPT_OUTS_NAMED contacts
(an import in unsubscribe mode, a bulk delete) names the first ones and then sends '*' once:
every batch in flight looks again at all its messages, and the statement is not slowed by a
notification for each of its rows.

Revision ID: 0029
Revises: 0028
"""

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

OPT_OUTS_NAMED = 500

TRIGGERS = f"""
CREATE FUNCTION mailroom_notify_opt_out(contact_id bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  told int := coalesce(nullif(current_setting('mailroom.opt_outs_told', true), ''), '0')::int + 1;
BEGIN
  PERFORM set_config('mailroom.opt_outs_told', told::text, true);  -- counted per transaction
  IF told <= {OPT_OUTS_NAMED} THEN
    PERFORM pg_notify('mailroom_opt_outs', contact_id::text);
  ELSIF told = {OPT_OUTS_NAMED} + 1 THEN
    PERFORM pg_notify('mailroom_opt_outs', '*');
  END IF;
END $$;

CREATE FUNCTION mailroom_contact_opted_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM mailroom_notify_opt_out(OLD.id);
  RETURN NULL;
END $$;
CREATE TRIGGER contacts_opt_out_notify AFTER UPDATE OF status, is_active ON contacts FOR EACH ROW
  WHEN ((OLD.status = 'active' AND OLD.is_active) AND (NEW.status <> 'active' OR NOT NEW.is_active))
  EXECUTE FUNCTION mailroom_contact_opted_out();
CREATE TRIGGER contacts_delete_notify AFTER DELETE ON contacts FOR EACH ROW
  WHEN (OLD.status = 'active' AND OLD.is_active) EXECUTE FUNCTION mailroom_contact_opted_out();

CREATE FUNCTION mailroom_address_suppressed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  found bigint;
BEGIN
  -- Past the named ones the '*' covers every address: no look-up for each of the others.
  IF NEW.email IS NOT NULL
     AND coalesce(nullif(current_setting('mailroom.opt_outs_told', true), ''), '0')::int <= {OPT_OUTS_NAMED} THEN
    SELECT id INTO found FROM contacts WHERE lower(email) = lower(NEW.email) AND status = 'active' AND is_active;
    IF found IS NOT NULL THEN
      PERFORM mailroom_notify_opt_out(found);
    END IF;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER suppressions_notify AFTER INSERT ON suppressions FOR EACH ROW
  EXECUTE FUNCTION mailroom_address_suppressed();
"""


def upgrade() -> None:
    op.execute(TRIGGERS)


def downgrade() -> None:
    op.execute(
        """DROP TRIGGER suppressions_notify ON suppressions; DROP FUNCTION mailroom_address_suppressed();
           DROP TRIGGER contacts_delete_notify ON contacts; DROP TRIGGER contacts_opt_out_notify ON contacts;
           DROP FUNCTION mailroom_contact_opted_out(); DROP FUNCTION mailroom_notify_opt_out(bigint);"""
    )
