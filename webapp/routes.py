"""Every route of the app, by who uses it. From a URL, find its feature here, then the handler in
that feature's pages.py (staff), api.py (/api) or public.py (subscribers and mail clients)."""

from webapp.abtests.api import ApiAbTestsController
from webapp.analytics.api import ApiAnalyticsController
from webapp.analytics.pages.reports import CampaignReportsController
from webapp.audit.pages import AuditLogController
from webapp.automations.api import ApiAutomationsController
from webapp.automations.pages.automations import AutomationsController
from webapp.automations.pages.enrolments import AutomationEnrolmentsController
from webapp.automations.pages.steps import AutomationStepsController
from webapp.bounces.pages import BounceMailboxController
from webapp.campaigns.api import ApiCampaignsController
from webapp.campaigns.pages.ab_test import CampaignAbTestController
from webapp.campaigns.pages.campaigns import CampaignsController
from webapp.campaigns.pages.content_check import CampaignContentCheckController, ContentCheckSettingsController
from webapp.campaigns.pages.live import CampaignLiveController
from webapp.campaigns.pages.wizard import CampaignWizardController
from webapp.campaigns.public import ArchiveController, WebVersionController
from webapp.contact_events.api import ApiContactEventsController
from webapp.contacts.api import ApiContactsController
from webapp.contacts.pages import ContactsController
from webapp.conversions.api import ApiConversionsController
from webapp.conversions.pages import ConversionSettingsController
from webapp.conversions.public import ConversionPixelController
from webapp.dashboard.pages import DashboardController
from webapp.feedback.pages import BounceRulesController
from webapp.feedback.public import FeedbackWebhooksController
from webapp.imports.api import ApiImportsController
from webapp.imports.pages.export import ExportsController
from webapp.imports.pages.jobs import ImportsController
from webapp.imports.pages.live import ImportLiveController
from webapp.lists.api import ApiListsController
from webapp.lists.pages.lists import ListsController
from webapp.lists.pages.segments import SegmentsController
from webapp.media.api import ApiMediaController
from webapp.media.pages import MediaController
from webapp.media.public import MediaFilesController
from webapp.outbox.pages import OutboxController
from webapp.placement.api import ApiPlacementTestsController
from webapp.placement.pages import PlacementTestsController, SeedMailboxesController
from webapp.providers.pages import ProvidersController
from webapp.routing.pages.rules import RoutingRulesController
from webapp.routing.pages.throttles import DomainThrottlesController
from webapp.routing.pages.transports import TransportsController
from webapp.scoring.api import ApiScoringController
from webapp.scoring.pages import ScoringController, ScoringRulesController
from webapp.settings.pages.feedback_sources import FeedbackSourcesController
from webapp.settings.pages.organisation import OrgSettingsController
from webapp.settings.pages.smtp_servers import SmtpServersController
from webapp.staff.pages.account import AccountController
from webapp.staff.pages.api_keys import ApiKeysController
from webapp.staff.pages.auth import AuthController
from webapp.staff.pages.password_reset import PasswordResetController
from webapp.staff.pages.users import UsersController
from webapp.subscriptions.api import ApiRepermissionController
from webapp.subscriptions.pages import RepermissionController
from webapp.subscriptions.public.preferences import MyDataController, PreferencesController
from webapp.subscriptions.public.subscribe import SubscribeController
from webapp.suppression.api import ApiContactPrivacyController, ApiSuppressionController
from webapp.suppression.pages.privacy import ContactPrivacyController
from webapp.suppression.pages.suppression import SuppressionController
from webapp.templates.api import ApiTemplatesController
from webapp.templates.pages import TemplatesController
from webapp.tracking.public import TrackingController
from webapp.transactional.api import ApiTransactionalController
from webapp.transactional.pages import TransactionalController
from webapp.warmup.api import ApiWarmupController
from webapp.warmup.pages import WarmupController
from webapp.webhooks.pages import WebhooksController

# Staff pages (signed-in staff; each route declares the role it needs), in navigation order.
STAFF_PAGES = [
    AuthController,
    PasswordResetController,
    DashboardController,
    CampaignsController,
    CampaignWizardController,
    CampaignAbTestController,
    CampaignContentCheckController,
    ContentCheckSettingsController,
    CampaignLiveController,
    CampaignReportsController,
    AutomationsController,
    AutomationStepsController,
    AutomationEnrolmentsController,
    ContactsController,
    ContactPrivacyController,
    RepermissionController,
    SuppressionController,
    ImportsController,
    ImportLiveController,
    ExportsController,
    ListsController,
    SegmentsController,
    ScoringController,
    ScoringRulesController,
    WarmupController,
    TemplatesController,
    TransactionalController,
    OutboxController,
    UsersController,
    AccountController,
    ApiKeysController,
    OrgSettingsController,
    SmtpServersController,
    RoutingRulesController,
    DomainThrottlesController,
    TransportsController,
    ProvidersController,
    WebhooksController,
    BounceRulesController,
    FeedbackSourcesController,
    BounceMailboxController,
    ConversionSettingsController,
    SeedMailboxesController,
    PlacementTestsController,
    AuditLogController,
    MediaController,
]

# The JSON API, mounted under /api (Bearer API keys).
API = [
    ApiContactsController,
    ApiListsController,
    ApiTemplatesController,
    ApiCampaignsController,
    ApiSuppressionController,
    ApiContactPrivacyController,
    ApiRepermissionController,
    ApiImportsController,
    ApiAnalyticsController,
    ApiConversionsController,
    ApiAbTestsController,
    ApiAutomationsController,
    ApiContactEventsController,
    ApiScoringController,
    ApiPlacementTestsController,
    ApiTransactionalController,
    ApiWarmupController,
    ApiMediaController,
]

# Subscribers and mail clients: no staff session. Mail providers' webhooks (/webhooks/...) too.
PUBLIC = [
    TrackingController,
    WebVersionController,
    ArchiveController,
    MediaFilesController,
    PreferencesController,
    MyDataController,
    SubscribeController,
    FeedbackWebhooksController,
    ConversionPixelController,
]
