"""Subventions Prévention TPE: the money rules (SPEC §7; issue 14, « The rules »), on the programme files of
app/domain/subsidy_programmes/ and amounts worked out by hand.

TOPBTP: CTN B, 1–49, equipment 50 %, training 70 %. RISQUE_CHIMIQUE: equipment 50 % until 31/12/2025,
70 % from 1/1/2026, verification 70 %. RPS: prestation 70 %, 15 000 € per prestation. ERGO: any size,
prevention and awareness 70 % each capped at 25 000 € per kind, 75 000 € per company under 200 employees,
25 000 € from 200, outside the TPE cap. General rules: TPE cap 25 000 €; minimum 1 000 € until 31/12/2025,
500 € from 1/1/2026.
"""

from __future__ import annotations

import decimal
import itertools
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from app.domain.subsidies import (
    Attestations,
    ReferenceDataError,
    Status,
    TransitionRefused,
    attestation_reasons,
    check_transition,
    compute_subsidy,
    convention_required,
    de_minimis_ok,
    de_minimis_refusal,
    format_euros,
    load_programme_file,
    load_programmes,
    load_rule_sets,
    round_cent,
    rules_on,
)

D = Decimal
IN_2025 = date(2025, 6, 2)
IN_2026 = date(2026, 3, 16)


def line(kind: str, amount: str, **flags) -> dict:
    return {"kind": kind, "amount_ht": D(amount), **flags}


def subsidy(programme: str, lines: list[dict], on: date = IN_2026, *, headcount: int = 10, **kwargs):
    return compute_subsidy(programme, lines, on, headcount=headcount, **kwargs)


# ==== The programmes are dated data =======================================================================


def test_the_four_programmes_of_2026_are_loaded_from_their_files():
    programmes = load_programmes()
    assert {"TOPBTP", "RISQUE_CHIMIQUE", "RPS", "ERGO"} <= set(programmes)
    assert programmes["TOPBTP"].ctn == {"B"}
    assert programmes["ERGO"].under_tpe_cap is False
    assert all(programmes[code].under_tpe_cap for code in ("TOPBTP", "RISQUE_CHIMIQUE", "RPS"))


def test_the_general_rules_in_force_change_on_1_january_2026():
    assert rules_on(date(2025, 12, 31)).minimum_subsidy == D(1000)
    assert rules_on(date(2026, 1, 1)).minimum_subsidy == D(500)
    assert rules_on(date(2026, 1, 1)).tpe_cap == D(25000)
    assert rules_on(date(2026, 1, 1)).de_minimis_ceiling == D(300000)
    assert rules_on(date(2026, 1, 1)).convention_threshold == D(23000)
    with pytest.raises(LookupError):
        rules_on(date(2023, 12, 31))


# ==== Rates ===============================================================================================


def test_chemical_risk_equipment_is_subsidised_at_50_percent_until_31_december_2025():
    result = subsidy("RISQUE_CHIMIQUE", [line("equipement", "10000")], date(2025, 12, 31))
    assert result.lines[0].rate == D("0.5")
    assert result.total == D("5000.00")


def test_chemical_risk_equipment_is_subsidised_at_70_percent_from_1_january_2026():
    result = subsidy("RISQUE_CHIMIQUE", [line("equipement", "10000")], date(2026, 1, 1))
    assert result.lines[0].rate == D("0.7")
    assert result.total == D("7000.00")


def test_chemical_risk_verification_stays_at_70_percent_across_the_new_year():
    for on in (date(2025, 12, 31), date(2026, 1, 1)):
        assert subsidy("RISQUE_CHIMIQUE", [line("verification", "2000")], on).total == D("1400.00")


def test_the_rate_is_the_one_in_force_on_the_first_request_not_on_the_line_date():
    # Reserved in December 2025, quote dated in 2026: the file keeps the rules of its first request.
    result = subsidy(
        "RISQUE_CHIMIQUE", [line("equipement", "10000", dated=date(2026, 2, 10))], date(2025, 12, 15)
    )
    assert result.total == D("5000.00")


def test_topbtp_pays_half_the_equipment_and_70_percent_of_the_training():
    result = subsidy("TOPBTP", [line("equipement", "4000"), line("formation", "1500")], ctn="B")
    assert [item.amount for item in result.lines] == [D("2000.00"), D("1050.00")]
    assert result.total == D("3050.00")
    assert result.refusal is None


# ==== Rounding: half-up to the cent, per line, then the caps ===============================================


def test_each_line_is_rounded_half_up_to_the_cent_before_the_lines_are_added():
    # 50 % of 10,01 € is 5,005 €: 5,01 € half-up (half-even would give 5,00 €); twice 5,01 € is 10,02 €,
    # where rounding the sum (10,01 €) would lose a cent.
    result = subsidy(
        "TOPBTP", [line("equipement", "10.01"), line("equipement", "10.01"), line("formation", "2000")]
    )
    assert [item.amount for item in result.lines] == [D("5.01"), D("5.01"), D("1400.00")]
    assert result.total == D("1410.02")


def test_a_third_of_a_cent_and_a_half_cent_are_rounded_half_up():
    assert round_cent(D("2.675")) == D("2.68")  # a float 2.675 would round to 2.67
    assert round_cent(D("0.035")) == D("0.04")
    assert round_cent(D("0.0349")) == D("0.03")
    assert subsidy("RISQUE_CHIMIQUE", [line("verification", "1428.65")]).total == D("1000.06")  # 1000.055


def test_the_callers_decimal_context_changes_nothing():
    with decimal.localcontext(decimal.Context(prec=3, rounding=decimal.ROUND_DOWN)):
        result = subsidy("TOPBTP", [line("equipement", "12345.67")])
    assert result.total == D("6172.84")  # 6172.835 half-up


def test_amounts_are_shown_the_french_way():
    assert format_euros(D("25000")) == "25\u00a0000,00\u00a0€"
    assert format_euros(D("1000.055")) == "1\u00a0000,06\u00a0€"


# ==== No float, ever ======================================================================================


@pytest.mark.parametrize("amount", [1000.0, "1000", True])
def test_an_amount_that_is_not_a_decimal_is_refused(amount):
    with pytest.raises(TypeError):
        compute_subsidy("TOPBTP", [{"kind": "equipement", "amount_ht": amount}], IN_2026, headcount=10)


def test_a_float_anywhere_in_the_money_rules_is_refused():
    with pytest.raises(TypeError):
        subsidy("TOPBTP", [line("equipement", "4000")], tpe_granted_before=1000.0)
    with pytest.raises(TypeError):
        subsidy("TOPBTP", [line("equipement", "4000")], headcount=10.0)
    with pytest.raises(TypeError):
        de_minimis_ok(D(1000), 500.0, on=IN_2026)
    with pytest.raises(TypeError):
        convention_required(1000.0, D(500), on=IN_2026)


def test_a_negative_amount_is_refused():
    with pytest.raises(ValueError):
        subsidy("TOPBTP", [line("equipement", "-1")])


# ==== Caps ================================================================================================


def test_a_psychosocial_prestation_is_capped_at_15000_euros_each():
    result = subsidy("RPS", [line("prestation", "30000"), line("prestation", "10000")])
    first, second = result.lines
    assert (first.computed, first.amount) == (D("21000.00"), D("15000"))
    assert "15\u00a0000,00\u00a0€ par ligne" in first.capped_reason
    assert (second.amount, second.capped_reason) == (D("7000.00"), None)
    assert result.total == D("22000.00")


def test_ergonomic_prevention_is_capped_at_25000_euros_per_kind():
    result = subsidy("ERGO", [line("prevention", "30000"), line("prevention", "10000")], headcount=100)
    assert result.lines_total == D("28000.00")
    (cut,) = result.reductions
    assert (cut.rule, cut.amount) == ("kind_cap", D("3000.00"))
    assert "Actions de prévention" in cut.reason
    assert result.total == D("25000.00")


def test_the_kind_cap_counts_what_the_company_was_granted_for_that_kind_before():
    result = subsidy(
        "ERGO", [line("prevention", "10000")], headcount=100, kind_granted_before={"prevention": D(20000)}
    )
    assert result.total == D("5000.00")
    assert "dont 20\u00a0000,00\u00a0€ déjà accordés" in result.reductions[0].reason


def test_ergo_company_cap_is_75000_euros_under_200_employees_and_25000_from_200():
    lines = [line("prevention", "30000"), line("sensibilisation", "30000")]  # 21 000 + 21 000
    assert subsidy("ERGO", lines, headcount=199).total == D("42000.00")
    result = subsidy("ERGO", lines, headcount=200)
    assert result.total == D("25000")
    (cut,) = result.reductions
    assert (cut.rule, cut.amount) == ("company_cap", D("17000.00"))
    assert "au moins 200 salariés" in cut.reason


def test_ergo_company_cap_counts_the_programme_granted_before():
    lines = [line("prevention", "30000"), line("sensibilisation", "30000")]
    result = subsidy("ERGO", lines, headcount=120, programme_granted_before=D(60000))
    assert result.total == D("15000")
    assert result.reductions[-1].rule == "company_cap"
    refused = subsidy("ERGO", lines, headcount=120, programme_granted_before=D(75000))
    assert refused.total == 0
    assert "a atteint le plafond du programme" in refused.refusal


def test_the_tpe_cap_of_25000_euros_cuts_the_part_above_with_its_reason():
    result = subsidy("TOPBTP", [line("equipement", "60000")])
    assert result.lines[0].amount == D("30000.00")
    (cut,) = result.reductions
    assert (cut.rule, cut.amount) == ("tpe_cap", D("5000.00"))
    assert result.total == D("25000")


def test_the_tpe_cap_counts_the_companys_other_tpe_subsidies():
    result = subsidy("RPS", [line("prestation", "20000")], tpe_granted_before=D(20000))  # 14 000 asked
    assert result.total == D("5000")
    assert (
        "dont 20\u00a0000,00\u00a0€ déjà accordés ; 9\u00a0000,00\u00a0€ au-delà"
        in result.reductions[0].reason
    )


def test_a_company_at_the_tpe_cap_is_refused():
    result = subsidy("TOPBTP", [line("equipement", "4000")], tpe_granted_before=D(25000))
    assert result.total == 0
    assert result.refusal.startswith("L'entreprise a atteint le plafond des subventions Prévention TPE")


def test_what_remains_under_the_tpe_cap_below_the_minimum_is_refused():
    result = subsidy("TOPBTP", [line("equipement", "4000")], tpe_granted_before=D(24800))
    assert result.computed_total == D(200)
    assert result.total == 0
    assert "inférieure au minimum de 500,00\u00a0€" in result.refusal


def test_ergo_is_outside_the_tpe_cap():
    result = subsidy("ERGO", [line("prevention", "10000")], tpe_granted_before=D(25000))
    assert (result.total, result.refusal) == (D("7000.00"), None)


# ==== Minimum subsidy =====================================================================================


def test_a_subsidy_under_1000_euros_is_refused_for_a_first_request_until_31_december_2025():
    result = subsidy("TOPBTP", [line("equipement", "1800")], date(2025, 12, 31))  # 900 €
    assert result.total == 0
    assert "inférieure au minimum de 1\u00a0000,00\u00a0€" in result.refusal
    assert "31 décembre 2025" in result.refusal


def test_exactly_1000_euros_is_granted_in_2025():
    assert subsidy("TOPBTP", [line("equipement", "2000")], date(2025, 12, 31)).total == D("1000.00")


def test_the_same_900_euros_are_granted_for_a_first_request_from_1_january_2026():
    result = subsidy("TOPBTP", [line("equipement", "1800")], date(2026, 1, 1))
    assert (result.total, result.refusal) == (D("900.00"), None)


def test_under_500_euros_is_refused_from_2026():
    result = subsidy("TOPBTP", [line("equipement", "999.98")], date(2026, 1, 1))  # 499,99 €
    assert result.total == 0
    assert result.computed_total == D("499.99")
    assert "minimum de 500,00\u00a0€" in result.refusal


def test_a_file_first_requested_in_2025_keeps_the_1000_euros_minimum_for_its_2026_lines():
    result = subsidy("TOPBTP", [line("equipement", "1800", dated=date(2026, 2, 1))], date(2025, 12, 20))
    assert result.refusal is not None and "1\u00a0000,00\u00a0€" in result.refusal


# ==== Exclusions ==========================================================================================


def test_leased_and_second_hand_equipment_are_excluded_with_their_reason_and_the_rest_is_computed():
    result = subsidy(
        "TOPBTP",
        [
            line("equipement", "4000", leased=True),
            line("equipement", "3000", second_hand=True),
            line("equipement", "2400"),
        ],
    )
    leased, second_hand, bought = result.lines
    assert leased.amount == second_hand.amount == 0
    assert "loué ou en crédit-bail" in leased.excluded_reason
    assert "d'occasion" in second_hand.excluded_reason
    assert (bought.amount, bought.excluded_reason) == (D("1200.00"), None)
    assert result.total == D("1200.00")
    assert leased.excluded_reason in result.reasons


def test_a_line_dated_outside_the_programmes_window_is_excluded():
    result = subsidy(
        "TOPBTP",
        [
            line("equipement", "3000", dated=date(2024, 12, 31)),
            line("equipement", "3000", dated=date(2025, 1, 1)),
        ],
    )
    before, inside = result.lines
    assert (
        "hors de la période du programme (du 1er janvier 2025 au 31 décembre 2026)" in before.excluded_reason
    )
    assert inside.amount == D("1500.00")
    assert result.total == D("1500.00")


def test_a_kind_the_programme_does_not_pay_for_is_excluded():
    result = subsidy("RPS", [line("equipement", "3000"), line("prestation", "3000")])
    assert "n'est pas une dépense prévue" in result.lines[0].excluded_reason
    assert result.total == D("2100.00")


def test_a_request_whose_every_line_is_excluded_is_refused():
    result = subsidy("TOPBTP", [line("equipement", "9000", leased=True)])
    assert (result.total, result.refusal) == (0, "Aucune dépense de la demande n'est éligible.")


def test_a_request_outside_the_programmes_window_is_refused():
    result = subsidy("TOPBTP", [line("equipement", "9000")], date(2027, 1, 4))
    assert result.total == 0
    assert "n'est pas ouvert le 4 janvier 2027" in result.refusal


def test_topbtp_is_for_the_building_trades_only():
    assert subsidy("TOPBTP", [line("equipement", "4000")], ctn="B", code_risque="45.2BD").refusal is None
    refused = subsidy("TOPBTP", [line("equipement", "4000")], ctn="C", code_risque="60.1ZA")
    assert refused.total == 0
    assert "ne concerne pas l'activité de l'établissement (CTN C, code risque 60.1ZA)" in refused.refusal


# ==== Headcount ===========================================================================================


@pytest.mark.parametrize(("headcount", "eligible"), [(0, False), (1, True), (49, True), (50, False)])
def test_tpe_programmes_are_for_companies_of_1_to_49_employees(headcount, eligible):
    for programme, kind in (
        ("TOPBTP", "equipement"),
        ("RISQUE_CHIMIQUE", "verification"),
        ("RPS", "prestation"),
    ):
        result = subsidy(programme, [line(kind, "4000")], headcount=headcount)
        assert (result.refusal is None) is eligible
        if not eligible:
            assert result.total == 0
            assert (
                f"réservé aux entreprises de 1 à 49 salariés (effectif national déclaré : {headcount})"
                in (result.refusal)
            )


@pytest.mark.parametrize("headcount", [1, 50, 199, 200, 5000])
def test_ergo_is_open_to_any_size(headcount):
    assert subsidy("ERGO", [line("prevention", "4000")], headcount=headcount).total == D("2800.00")


def test_ergo_refuses_a_company_without_employees():
    assert "d'au moins 1 salarié" in subsidy("ERGO", [line("prevention", "4000")], headcount=0).refusal


# ==== Attested conditions =================================================================================

ALL_ATTESTED = Attestations(
    contributions_up_to_date=True,
    duerp_updated_on=date(2025, 9, 1),
    prevention_contract_in_progress=False,
    prevention_contract_ended_on=None,
    injunction_or_surcharge=False,
    occupational_health_member=True,
    staff_representatives_informed=True,
)


def attested(**changes) -> Attestations:
    from dataclasses import replace

    return replace(ALL_ATTESTED, **changes)


def test_a_company_attesting_every_condition_is_eligible():
    assert attestation_reasons(ALL_ATTESTED, IN_2026) == ()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"contributions_up_to_date": False}, "à jour de ses cotisations URSSAF"),
        ({"prevention_contract_in_progress": True}, "Un contrat de prévention est en cours"),
        ({"injunction_or_surcharge": True}, "injonction ou une cotisation supplémentaire"),
        ({"occupational_health_member": False}, "service de prévention et de santé au travail"),
        ({"staff_representatives_informed": False}, "représentants du personnel"),
        ({"regime_general": False}, "régime général"),
        ({"duerp_updated_on": None}, "indiquez la date de sa dernière mise à jour"),
    ],
)
def test_each_unmet_condition_gives_its_french_reason(changes, reason):
    (text,) = attestation_reasons(attested(**changes), IN_2026)
    assert reason in text


def test_the_duerp_must_have_been_updated_in_the_last_12_months():
    assert attestation_reasons(attested(duerp_updated_on=date(2025, 3, 16)), IN_2026) == ()
    (reason,) = attestation_reasons(attested(duerp_updated_on=date(2025, 3, 15)), IN_2026)
    assert reason == (
        "Le DUERP doit avoir été mis à jour dans les 12 derniers mois (depuis le 16 mars 2025) : "
        "sa dernière mise à jour date du 15 mars 2025."
    )
    (future,) = attestation_reasons(attested(duerp_updated_on=date(2026, 3, 17)), IN_2026)
    assert "postérieure à la demande" in future


def test_no_subsidy_within_2_years_of_the_end_of_a_prevention_contract():
    (reason,) = attestation_reasons(attested(prevention_contract_ended_on=date(2024, 3, 16)), IN_2026)
    assert "a pris fin le 16 mars 2024" in reason
    assert "demande possible à partir du 17 mars 2026" in reason
    assert attestation_reasons(attested(prevention_contract_ended_on=date(2024, 3, 15)), IN_2026) == ()


# ==== De minimis and the convention =======================================================================


def test_de_minimis_allows_up_to_300000_euros_of_public_aid_over_3_rolling_years():
    assert de_minimis_ok(D(250000), D(50000), on=IN_2026)
    assert not de_minimis_ok(D(250000), D("50000.01"), on=IN_2026)
    assert rules_on(IN_2026).de_minimis_window_start(IN_2026) == date(2023, 3, 16)


def test_above_the_de_minimis_ceiling_nothing_is_granted_not_even_in_part():
    reason = de_minimis_refusal(D(295000), D(8000), on=IN_2026)
    assert "dépasseraient le plafond de minimis de 300\u00a0000,00\u00a0€" in reason
    assert "même en partie" in reason
    assert de_minimis_refusal(D(0), D(8000)) is None  # the rules in force today


def test_a_convention_is_required_above_23000_euros_of_prevention_subsidies_in_12_months():
    assert not convention_required(D(13000), D(10000), on=IN_2026)
    assert convention_required(D(13000), D("10000.01"), on=IN_2026)
    assert convention_required(D(0), D(23001), on=IN_2025)
    assert rules_on(IN_2026).convention_window_start(IN_2026) == date(2025, 3, 16)


# ==== The YAML schema =====================================================================================

GOOD_PROGRAMME = """\
code: TEST
name: Programme d'essai
target: {codes_risque_included: ["26.6AA"], codes_risque_excluded: ["45.2BD"]}
headcount: {min: 1, max: 49}
validity: {from: "2025-01-01", to: "2025-12-31"}
under_tpe_cap: true
line_kinds:
  equipement:
    label: Équipements
    rates:
      - {from: "2025-01-01", to: "2025-06-30", rate: 50.5}
      - {from: "2025-07-01", to: null, rate: "60"}
"""


def write(tmp_path: Path, text: str, name: str = "TEST.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_yaml_float_in_a_programme_file_is_read_exactly(tmp_path):
    programme = load_programme_file(write(tmp_path, GOOD_PROGRAMME))
    assert programme.line_kinds["equipement"].rate_on(date(2025, 3, 1)) == D("0.505")
    assert programme.line_kinds["equipement"].rate_on(date(2025, 7, 1)) == D("0.6")
    result = compute_subsidy(programme, [line("equipement", "1000")], date(2025, 3, 1), headcount=5)
    assert result.lines[0].amount == D("505.00")


def test_a_programme_targets_its_included_codes_risque_and_not_its_excluded_ones(tmp_path):
    programme = load_programme_file(write(tmp_path, GOOD_PROGRAMME))
    assert programme.targets("C", "26.6AA")
    assert not programme.targets("B", "45.2BD")
    assert not programme.targets("B", "45.2BE")


def test_the_schema_refuses_a_bad_programme_file_naming_the_file_and_the_field(tmp_path):
    bad = GOOD_PROGRAMME.replace('rate: "60"', 'rate: "soixante"').replace("name: Programme d'essai\n", "")
    with pytest.raises(ReferenceDataError) as error:
        load_programme_file(write(tmp_path, bad))
    message = str(error.value)
    assert message.startswith("TEST.yaml: ")
    assert "line_kinds.equipement.rates[1].rate" in message
    assert "'name' is a required property" in message


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (("rate: 50.5", "rate: 120"), "line_kinds.equipement.rates[0].rate"),
        (('to: "2025-12-31"', 'to: "2025-13-31"'), "validity.to"),
        (("under_tpe_cap: true", "under_tpe_cap: oui"), "under_tpe_cap"),
        (('"26.6AA"', '"26-6AA"'), "target.codes_risque_included[0]"),
        (("headcount: {min: 1, max: 49}", "headcount: {min: 1, max: 49, typo: 3}"), "headcount"),
    ],
)
def test_the_schema_names_the_field_in_error(tmp_path, change, where):
    with pytest.raises(ReferenceDataError) as error:
        load_programme_file(write(tmp_path, GOOD_PROGRAMME.replace(*change)))
    assert str(error.value).startswith("TEST.yaml: ")
    assert f"{where} : " in str(error.value)


def test_a_programme_file_must_be_named_after_its_code(tmp_path):
    with pytest.raises(ReferenceDataError, match=r"^OTHER\.yaml: code : « TEST »"):
        load_programme_file(write(tmp_path, GOOD_PROGRAMME, "OTHER.yaml"))


def test_dated_rates_must_follow_each_other_and_cover_the_window(tmp_path):
    gap = GOOD_PROGRAMME.replace('from: "2025-07-01"', 'from: "2025-07-02"')
    with pytest.raises(
        ReferenceDataError, match=r"TEST\.yaml: line_kinds\.equipement\.rates\[1\] : doit commencer"
    ):
        load_programme_file(write(tmp_path, gap))
    short = GOOD_PROGRAMME.replace('{from: "2025-07-01", to: null', '{from: "2025-07-01", to: "2025-11-30"')
    with pytest.raises(ReferenceDataError, match="ne couvrent pas toute la période"):
        load_programme_file(write(tmp_path, short))


def test_the_general_rules_file_is_checked_too(tmp_path):
    text = (Path(__file__).parents[2] / "app/domain/subsidy_programmes/general_rules.yaml").read_text("utf-8")
    write(tmp_path, text.replace("minimum_subsidy: 500", "minimum_subsidy: 5,00"), "general_rules.yaml")
    with pytest.raises(ReferenceDataError, match=r"^general_rules\.yaml: rule_sets\[1\]\.minimum_subsidy :"):
        load_rule_sets(tmp_path)


# ==== The dossier's states ================================================================================


def test_a_reservation_goes_from_draft_to_paid_through_instruction_and_completion():
    path = [
        Status.BROUILLON,
        Status.DEPOSEE,
        Status.EN_INSTRUCTION,
        Status.COMPLEMENT_DEMANDE,
        Status.EN_INSTRUCTION,
        Status.ACCEPTEE,
        Status.VERSEMENT_DEMANDE,
        Status.COMPLEMENT_DEMANDE,
        Status.VERSEMENT_DEMANDE,
        Status.PAYEE,
    ]
    for current, target in itertools.pairwise(path):
        assert check_transition(current, target) is target


def test_a_payment_request_without_reservation_is_allowed():
    assert check_transition("brouillon", "versement_demande") is Status.VERSEMENT_DEMANDE


def test_an_illegal_transition_is_refused_in_french():
    with pytest.raises(
        TransitionRefused, match="Un dossier « Brouillon » ne peut pas passer à l'état « Acceptée »"
    ):
        check_transition(Status.BROUILLON, Status.ACCEPTEE)
    with pytest.raises(
        TransitionRefused, match="Un dossier « Déposée » ne peut pas passer à l'état « Payée »"
    ):
        check_transition("deposee", "payee")
    for closed in (Status.REFUSEE, Status.PAYEE):
        with pytest.raises(TransitionRefused, match="est clos"):
            check_transition(closed, Status.EN_INSTRUCTION)
    with pytest.raises(ValueError):
        check_transition("brouillon", "archivee")
