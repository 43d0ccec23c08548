"""Every JSON API controller (mounted under /api)."""

from webapp.controllers.api_campaigns import ApiCampaignsController
from webapp.controllers.api_contacts import ApiContactsController
from webapp.controllers.api_lists import ApiListsController

CONTROLLERS = [ApiContactsController, ApiListsController]
CONTROLLERS += [ApiCampaignsController]
