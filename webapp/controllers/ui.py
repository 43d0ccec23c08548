"""Every staff UI controller, in navigation order."""

from webapp.controllers.api_keys import ApiKeysController
from webapp.controllers.auth import AuthController
from webapp.controllers.campaign_live import CampaignLiveController
from webapp.controllers.campaign_wizard import CampaignWizardController
from webapp.controllers.campaigns import CampaignsController
from webapp.controllers.contact_privacy import ContactPrivacyController
from webapp.controllers.contacts import ContactsController
from webapp.controllers.dashboard import DashboardController
from webapp.controllers.exports import ExportsController
from webapp.controllers.import_live import ImportLiveController
from webapp.controllers.imports import ImportsController
from webapp.controllers.lists import ListsController
from webapp.controllers.org_settings import OrgSettingsController
from webapp.controllers.outbox import OutboxController
from webapp.controllers.segments import SegmentsController
from webapp.controllers.smtp_servers import SmtpServersController
from webapp.controllers.suppression import SuppressionController
from webapp.controllers.templates import TemplatesController
from webapp.controllers.users import UsersController

CONTROLLERS = [
    AuthController, DashboardController,
    CampaignsController, CampaignWizardController, CampaignLiveController,
    ContactsController, ContactPrivacyController, SuppressionController,
    ImportsController, ImportLiveController, ExportsController,
    ListsController, SegmentsController, TemplatesController, OutboxController,
    UsersController, ApiKeysController, OrgSettingsController, SmtpServersController,
]
