"""One adapter per tracking service, by its `[tracking.<name>]` config name."""

from __future__ import annotations

from inbox_agent.tracking.adapter import Adapter
from inbox_agent.tracking.providers.aftership import AfterShip
from inbox_agent.tracking.providers.australia_post import AustraliaPost
from inbox_agent.tracking.providers.cainiao import Cainiao
from inbox_agent.tracking.providers.dhl import Dhl
from inbox_agent.tracking.providers.laposte import LaPoste
from inbox_agent.tracking.providers.royal_mail import RoyalMail
from inbox_agent.tracking.providers.seventeen_track import SeventeenTrack
from inbox_agent.tracking.providers.trackingmore import TrackingMore
from inbox_agent.tracking.providers.usps import Usps
from inbox_agent.tracking.providers.yunexpress import YunExpress

ADAPTERS: dict[str, type[Adapter]] = {cls.name: cls for cls in (
    SeventeenTrack, Cainiao, YunExpress, Usps, LaPoste, AustraliaPost, RoyalMail, Dhl, AfterShip, TrackingMore)}
ORIGIN_TRACKERS = ("yunexpress", "cainiao", "seventeen_track", "aftership", "trackingmore")
