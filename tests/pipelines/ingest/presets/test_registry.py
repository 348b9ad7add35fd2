"""Every corpus file keeps the preset it is recognised as (new presets steal none)."""

from __future__ import annotations

import pytest

from tests.fixtures.make_corpus import GOOD
from tests.pipelines.ingest.presets.conftest import staged

PRESET_OF = {
    "purchases/shopify_orders.csv": "shopify",
    "complaints/zendesk_1.csv": "zendesk",
    "complaints/zendesk_2.csv": "zendesk",
    "complaints/freshdesk.csv": "freshdesk",
    "complaints/salesforce_cases.csv": "salesforce-cases",
    "purchases/logo_invoices.csv": "logo",
    "purchases/logo_linked_returns.csv": "logo",
    "purchases/woocommerce_orders.csv": "woocommerce",
    "customers/hubspot_contacts.csv": "hubspot-contacts",
    "interactions/hubspot_activities.csv": "hubspot-engagements",
    "purchases/netsis_ledger.csv": "netsis",
    "purchases/hepsiburada_siparisler.csv": "hepsiburada",
    "purchases/bol_bestellingen.csv": "bol",
    "purchases/trendyol_siparisler.xlsx": "trendyol",
    "purchases/mollie_payments.csv": "mollie",
    "customers/shopify_customers.csv": "shopify-customers",
    "interactions/mailchimp_subscribed.csv": "mailchimp",
    "interactions/mailchimp_unsubscribed.csv": "mailchimp",
    "interactions/mailchimp_cleaned.csv": "mailchimp",
    "purchases/mikro_cari_hareketleri.csv": "mikro",
    "purchases/exact_verkoopfacturen.csv": "exact",
}


@pytest.mark.parametrize("relative", [*GOOD, "purchases/erp_export.xlsx",
                                      "purchases/trendyol_siparisler.xlsx",
                                      "purchases/warehouse.parquet"])
def test_each_corpus_file_keeps_its_preset(raw, relative):
    assert staged(raw, relative).reading.preset == PRESET_OF.get(relative)
