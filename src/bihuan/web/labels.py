"""Words the pages of several capabilities share: the people categories as the users name them."""

from __future__ import annotations

from babel.support import Translations

from bihuan.protocol import ContactCategory, TransferCategory


def category_labels(t: Translations) -> dict[str, str]:
    """Contact categories (密接, 次密接, 时空伴随者...), as tracing and transfer pages show them."""
    return {
        ContactCategory.CLOSE_CONTACT: t.gettext("Close contact"),
        ContactCategory.SECONDARY_CONTACT: t.gettext("Secondary contact"),
        ContactCategory.GENERAL_CONTACT: t.gettext("General contact"),
        ContactCategory.COMPANION: t.gettext("Spatiotemporal companion"),
        ContactCategory.INBOUND: t.gettext("Inbound traveller"),
        ContactCategory.SEALED_RESIDENT: t.gettext("Sealed-area resident"),
    }


def transfer_category_labels(t: Translations) -> dict[str, str]:
    """Transfer categories: cases (确诊) and the contact categories."""
    return {TransferCategory.CONFIRMED: t.gettext("Case (confirmed or asymptomatic)"), **category_labels(t)}
