"""`manage.py load_demo --seed N [--institutions 240] [--reset]`: a demo network."""

from __future__ import annotations

import random
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import ProtectedError
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from medexchange.agreements import demo as agreements_demo
from medexchange.applications import demo as applications_demo
from medexchange.catalog import demo as catalog_demo
from medexchange.funding import demo as funding_demo
from medexchange.matching import demo as matching_demo
from medexchange.network import demo
from medexchange.network.models import Network
from medexchange.scheduling import demo as scheduling_demo
from medexchange.scholarships import demo as scholarships_demo

TOTP_ONE_LINER = (
    'python -c "import base64,hmac,struct,time; '
    "k=base64.b32decode('{secret}'); "
    "h=hmac.digest(k,struct.pack('>Q',int(time.time())//30),'sha1'); "
    "o=h[-1]&15; "
    "print('%06d'%((int.from_bytes(h[o:o+4],'big')&0x7fffffff)%10**6))\""
)


class Command(BaseCommand):
    help = (
        "Build a realistic, deterministic demo network: networks, institutions on real "
        "city coordinates, memberships, join requests, one demo login per role, a "
        "catalog of opportunities with sessions over the two years from next month, and "
        "applications to the sessions taking applications."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, required=True, help="Same seed, same demo data.")
        parser.add_argument(
            "--institutions",
            type=int,
            default=demo.DEFAULT_INSTITUTIONS,
            help=f"How many institutions to create (default {demo.DEFAULT_INSTITUTIONS}).",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete earlier demo data (scholarship calls and funds of the demo networks, "
            "applications to demo sessions, catalog of demo institutions, networks, "
            "institutions, join requests, demo users) before loading.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        seed: int = options["seed"]
        count: int = options["institutions"]
        if not demo.MIN_INSTITUTIONS <= count <= demo.MAX_INSTITUTIONS:
            raise CommandError(
                f"--institutions must be between {demo.MIN_INSTITUTIONS} "
                f"and {demo.MAX_INSTITUTIONS}."
            )
        started = time.monotonic()
        if options["reset"]:
            try:
                # Application.session and Opportunity.host are PROTECT: applications go
                # first, then the catalog, then the network. Scholarship requests hold
                # applications, and funds their network: they go before both.
                demo_networks = list(Network.objects.filter(slug__in=demo.DEMO_NETWORK_SLUGS))
                for network in demo_networks:
                    scholarships_demo.delete_demo_scholarships(network)
                funding_demo.delete_demo_funds(demo_networks)
                scheduling_demo.delete_demo_plans()
                matching_demo.delete_demo_cycles()
                applications_demo.delete_demo_applications()
                agreements_demo.delete_demo_agreements()
                catalog_demo.delete_demo_catalog()
                demo.delete_demo_data()
            except ProtectedError as error:
                raise CommandError(demo.reset_error_message(error)) from error
        elif demo.demo_data_exists():
            raise CommandError(
                "Demo data already exists (demo networks or demo users). "
                "Run again with --reset to replace it."
            )
        summary = demo.build_demo_network(seed=seed, institutions=count)
        network_seconds = time.monotonic() - started
        catalog_start = catalog_demo.first_day_of_next_month(timezone.localdate())
        catalog = catalog_demo.build_demo_catalog(seed=seed, start=catalog_start)
        catalog_seconds = time.monotonic() - started - network_seconds
        applications = applications_demo.build_demo_applications(seed=seed)
        agreements = agreements_demo.build_demo_agreements(seed=seed)
        cycles = matching_demo.build_demo_cycles(seed=seed)
        plans = scheduling_demo.build_demo_plans(seed=seed)
        money_network = Network.objects.get(slug=demo.GLOBAL_SLUG)
        funds = funding_demo.build_demo_funds(money_network, random.Random(seed))
        scholarships = scholarships_demo.build_demo_scholarships(money_network, random.Random(seed))
        applications_seconds = time.monotonic() - started - network_seconds - catalog_seconds
        self._print_summary(summary, network_seconds)
        self._print_catalog(catalog, catalog_seconds)
        self._print_applications(applications, applications_seconds, summary.role_institution)
        self.stdout.write(
            f"  Agreements: {agreements.agreements} ({agreements.attached} applications under "
            f"them), {reverse('agreements:list')}"
        )
        if cycles.ranking_cycle or cycles.released_cycle:
            self.stdout.write(
                f"  Match cycles: ranking open {reverse('matching:cycles')}"
                f" ({cycles.ranking_sessions} sessions), released with {cycles.placed} placed."
            )
        if plans.plan:
            self.stdout.write(
                f"  Rotation plan ({plans.status}, {plans.participants} participants): "
                f"{reverse('scheduling:plan', kwargs={'pk': plans.plan})}"
            )
        self.stdout.write(
            f"  Funds of {money_network.name}: {funds.funds} funds with {funds.gifts} gifts, "
            f"{reverse('funding:list', kwargs={'network': money_network.slug})}; "
            f"a scholarship call with {scholarships.requests} requests and "
            f"{scholarships.proposed_awards} awards proposed, "
            f"{reverse('scholarships:call', kwargs={'pk': scholarships.call_id})}"
        )

    def _print_applications(
        self, summary: applications_demo.DemoApplicationsSummary, seconds: float, host: str
    ) -> None:
        out = self.stdout
        out.write("")
        out.write(
            self.style.SUCCESS(
                f"Demo applications loaded in {seconds:.1f} s: {summary.applications} "
                f"applications from {summary.applicants} applicants, "
                f"{summary.placements} seats taken."
            )
        )
        out.write("  " + ", ".join(f"{state}: {n}" for state, n in summary.states.items() if n))
        if summary.role_institution_slug:
            out.write(
                f"  {host}: {summary.role_institution_inbound} inbound applications, "
                f"{summary.role_institution_awaiting} awaiting a decision."
            )
        links: list[tuple[str, str, dict[str, Any]]] = [
            ("inbound", "applications:inbound", {"slug": summary.role_institution_slug})
        ]
        if summary.role_sessions:
            links.append(("review queue", "applications:queue", {"pk": summary.role_sessions[0]}))
        for label, name, kwargs in links:
            try:
                path = reverse(name, kwargs=kwargs)
            except NoReverseMatch:
                continue
            out.write(f"  Coordinator's {label}: {path}")
        if summary.demo_applicant_states:
            try:
                path = reverse("applications:mine")
            except NoReverseMatch:
                path = ""
            states = ", ".join(summary.demo_applicant_states)
            out.write(f"  Camila Rojas's applications ({states}): {path}".rstrip(": "))

    def _print_catalog(self, summary: catalog_demo.DemoCatalogSummary, seconds: float) -> None:
        out = self.stdout
        out.write("")
        out.write(
            self.style.SUCCESS(
                f"Demo catalog loaded in {seconds:.1f} s: {summary.opportunities} opportunities "
                f"({summary.published} published) from {summary.hosts} hosts, "
                f"{summary.sessions} sessions from {summary.start:%Y-%m-%d} over two years."
            )
        )
        out.write("  " + ", ".join(f"{kind}: {n}" for kind, n in summary.kinds.items()))
        for label, slug in summary.highlights.items():
            path = reverse("catalog:opportunity", kwargs={"slug": slug})
            out.write(f"  {label.replace('_', ' ')}: {path}")

    def _print_summary(self, summary: demo.DemoSummary, seconds: float) -> None:
        out = self.stdout
        out.write(
            self.style.SUCCESS(
                f"Demo network loaded (seed {summary.seed}) in {seconds:.1f} s: "
                f"{summary.institutions} institutions in {summary.countries} countries, "
                f"{summary.sites} sites."
            )
        )
        for name, members in summary.networks:
            out.write(f"  {name}: {members} active members")
        out.write(
            f"  Join requests: {summary.join_requests_pending} awaiting review, "
            f"{summary.join_requests_decided} decided."
        )
        out.write("")
        out.write("Demo logins (all data is fictional; do not use these on a real server):")
        rows = [("E-mail", "Role", "Password", "TOTP secret")]
        rows += [
            (login.email, login.role, login.password, login.totp_secret or "-")
            for login in summary.logins
        ]
        widths = [max(len(row[column]) for row in rows) for column in range(4)]
        for index, row in enumerate(rows):
            out.write("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
            if index == 0:
                out.write("  " + "  ".join("-" * w for w in widths))
        secrets = sorted({login.totp_secret for login in summary.logins if login.totp_secret})
        if secrets:
            out.write("")
            out.write(
                "Network staff must sign in with two-factor authentication. Add the TOTP "
                "secret to an authenticator app (time-based, 6 digits, 30 s), or compute "
                "the current code with:"
            )
            for secret in secrets:
                out.write("  " + TOTP_ONE_LINER.format(secret=secret))
        out.write("")
        out.write(f"Coordinator, reviewer and supervisor work at {summary.role_institution}.")
