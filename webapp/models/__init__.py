"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from webapp.models.base import Base
from webapp.models.contact import Contact, ContactStatus
from webapp.models.email_list import EmailList, ListMember, ListType
from webapp.models.user import ApiKey, Role, User

__all__ = ["ApiKey", "Base", "Contact", "ContactStatus", "EmailList", "ListMember", "ListType", "Role", "User"]
