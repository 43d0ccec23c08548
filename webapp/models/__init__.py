"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from webapp.models.base import Base
from webapp.models.campaign import Campaign, CampaignList, CampaignStatus, Delivery, DeliveryStatus, EmailEvent, Link
from webapp.models.contact import Contact, ContactStatus
from webapp.models.email_list import EmailList, ListMember, ListType, Subscription, SubscriptionStatus
from webapp.models.import_job import ImportJob, ImportMode, ImportReject, ImportStatus
from webapp.models.smtp import AppSetting, OutboxMessage, SmtpServer
from webapp.models.suppression import EMAIL_HASH_SQL, Suppression, SuppressionReason
from webapp.models.template import EmailTemplate
from webapp.models.user import ApiKey, Role, User

__all__ = [
    "ApiKey", "AppSetting", "Base", "Campaign", "CampaignList", "CampaignStatus", "Contact", "ContactStatus",
    "Delivery", "DeliveryStatus", "EmailEvent", "EmailList", "EmailTemplate", "Link", "ListMember", "ListType",
    "EMAIL_HASH_SQL", "OutboxMessage", "Role", "SmtpServer", "Subscription", "SubscriptionStatus", "Suppression",
    "SuppressionReason", "User", "ImportJob", "ImportMode", "ImportReject", "ImportStatus",
]
