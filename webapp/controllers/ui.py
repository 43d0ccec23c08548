"""Every staff UI controller, in navigation order."""

from webapp.controllers.auth import AuthController
from webapp.controllers.dashboard import DashboardController

CONTROLLERS = [AuthController, DashboardController]
