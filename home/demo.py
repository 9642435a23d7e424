"""Demo: two news on each site's home page, a closure and a concert, shown
from the day the demo is loaded."""

from datetime import timedelta

from django.utils import timezone

from extranet.demo import secretariat_group
from extranet.models import Site

from .models import News

SECRETARIAT_PERMISSIONS = ["view_news", "add_news", "change_news", "delete_news"]

NEWS = {
    "combs-la-ville": [
        (
            "Fermeture pendant les vacances de Noël",
            "Le conservatoire sera fermé du samedi 19 décembre au dimanche 3 janvier. "
            "Les cours reprendront le lundi 4 janvier.\n"
            "Le secrétariat reste joignable par courriel.",
            21,
        ),
        (
            "Concert de Noël des élèves",
            "Les classes de piano, de violon et l’orchestre à cordes vous donnent "
            "rendez-vous le mercredi 16 décembre à 19 h, à l’auditorium. Entrée libre.",
            14,
        ),
    ],
    "ploufragan": [
        (
            "Fermeture du centre culturel pendant les fêtes",
            "Le centre culturel sera fermé du samedi 19 décembre au dimanche 3 janvier. "
            "Reprise des cours et des ateliers le lundi 4 janvier.",
            21,
        ),
        (
            "Spectacle de danse et concert de fin de trimestre",
            "Les élèves de danse et de musique se produisent le samedi 12 décembre à 15 h, "
            "salle de l’Espace Victor-Hugo. Venez nombreux\u00a0!",
            10,
        ),
    ],
}


def load(stdout):
    secretariat_group("home", SECRETARIAT_PERMISSIONS)
    today = timezone.localdate()
    for slug, items in NEWS.items():
        site = Site.objects.get(slug=slug)
        for title, body, days in items:
            News.objects.get_or_create(
                site=site,
                title=title,
                defaults={
                    "body": body,
                    "publish_from": today,
                    "publish_until": today + timedelta(days=days),
                },
            )
    stdout.write("News ready.")
