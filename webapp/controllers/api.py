"""Every JSON API controller (mounted under /api)."""

from webapp.controllers.api_campaigns import ApiCampaignsController
from webapp.controllers.api_contacts import ApiContactsController
from webapp.controllers.api_imports import ApiImportsController
from webapp.controllers.api_lists import ApiListsController
from webapp.controllers.api_suppression import ApiContactPrivacyController, ApiSuppressionController
from webapp.controllers.api_templates import ApiTemplatesController

CONTROLLERS = [ApiContactsController, ApiListsController, ApiTemplatesController, ApiCampaignsController,
               ApiSuppressionController, ApiContactPrivacyController, ApiImportsController]
