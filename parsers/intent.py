"""What a reply wants: registration, correction, cancellation, question, auto_reply, bounce or other.

Header signals decide first (a DSN is a bounce whatever it says); then the wording of the sender's own text,
in en/fr/es, together with whether anyone was found to register.
"""
from __future__ import annotations

import re
from functools import lru_cache

from parsers.meeting import NO_MEETING, MeetingProfile
from parsers.policy_headers import HeaderSignals

# "not ... attend / participate / travel" in the three languages, with a few words allowed in between
# ("will unfortunately not be able to attend", "ne pourra finalement pas participer", "no podrá viajar").
NEGATIVE_ATTENDANCE = re.compile(
    r"\b(?:not|no longer|unable to|cannot|can[’']t|won[’']t)\b(?:\s+[\w’']+){0,4}?\s+"
    r"(?:attend|participate|travel|come|join|make it|make the trip|be (?:present|represented|attending|participating|travell?ing|coming)|"
    r"send (?:a delegation|anyone|someone|a representative|representatives))\b|"
    r"\bne\b(?:\s+[\w’']+){0,3}?\s+(?:pas|plus)\b(?:\s+[\w’']+){0,3}?\s+"
    r"(?:participer|assister|venir|voyager|se rendre|se déplacer|déplacement|être (?:présente?s?|représentée?s?))\b|"
    r"\bn['’](?:assistera|participera|assisteront|participeront)\b|"
    r"\bne\s+(?:viendr\w*|vien\w*|particip\w*|assist\w*|pourr\w*|peu\w*|ser\w*|se rendr\w*|représent\w*)(?:\s+[\w’']+){0,2}?\s+(?:pas|plus)\b|"
    # "n'est plus en mesure de", "is no longer in a position to", "ya no está en condiciones de"; "will be absent"
    r"\bn['’](?:est|sont|sera|seront|serons|sommes)\s+(?:pas|plus)\s+en mesure de\b|"
    r"\bne\s+(?:sommes|sera|seront|serons|est|sont)\s+(?:pas|plus)\s+en mesure de\b|"
    r"\b(?:is|are|am) (?:no longer|not) (?:able|in a position) to\b|\b(?:ya )?no (?:está|estamos|están) en condiciones de\b|"
    r"\bwill (?:\w+ )?be absent\b|\bser(?:a|ons|ont) absente?s?\b|\bestar(?:á|emos|án) ausentes?\b|"
    r"\bno\b(?:\s+[\w’']+){0,3}?\s+(?:asistir\w*|particip(?:ar|ará|arán|aremos)|viaj(?:ar|ará|arán|aremos)|venir|vendr\w+|desplazar\w*|hacer el viaje|"
    r"enviar\w* (?:una |ninguna |a )?(?:delegaci[oó]n|representantes?|nadie)|estar (?:presentes?|representad[oa]s?))\b|"
    # infinitives ("decided not to send a delegation", "a décidé de ne pas envoyer de délégation")
    r"\bne (?:pas|plus)\s+(?:envoyer|participer|assister|venir|se rendre|voyager|être (?:présente?s?|représentée?s?))\b|"
    r"\bne\b(?:\s+[\w’']+){0,3}?\s+pas\s+envoyer\b|"
    # nobody comes: "nobody from PAX will be travelling", "personne ne pourra venir", "nadie podrá asistir"
    r"\b(?:nobody|no one|no-one|none of us)\b(?:\s+[\w’']+){0,4}?\s+(?:will|can|shall|is able to|is going to)\s+"
    r"(?:be\s+)?(?:attend|travel|come|join|participat|present|go)\w*|"
    r"\bpersonne\b(?:\s+[\w’']+){0,4}?\s+ne\s+(?:pourra|viendra|participera|sera|se rendra|assistera|fera)\b|"
    r"\bnadie\b(?:\s+[\w’']+){0,4}?\s+(?:podrá|asistirá|viajará|participará|estará|irá|vendrá)\b",
    re.IGNORECASE)
_FIRST_PERSON_SINGULAR = re.compile(r"\b(?:I|I['’]m|je|j['’]|yo|me|myself)\b", re.IGNORECASE)
_MENTION_HINT = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|M|Mme|Sr|Sra)\.?\s+[A-ZÀ-Þ]")


def organisation_declines(text: str) -> bool:
    """A sentence saying that the organisation (not one person) will not attend."""
    masked = re.sub(r"\b(Mrs|Mr|Ms|Dr|Prof|Mme|Sra|Sr|M|St)\.", r"\1", text)  # "Ms." does not end a sentence
    for sentence in re.split(r"(?<=[.!:;])\s+|\n\s*\n", masked):
        if sentence.strip().endswith("?") or not NEGATIVE_ATTENDANCE.search(sentence):
            continue
        if _MENTION_HINT.search(sentence) or _FIRST_PERSON_SINGULAR.search(sentence):
            continue
        return True
    return False


_AUTO_SUBJECT = re.compile(
    r"^\s*(?:automatic reply|auto(?:matic)?[ -]?(?:reply|response)|auto:|out of (?:the )?office|ooo\b|read:|lu :|leído:|"
    r"réponse automatique|r[ée]ponse automatique|absence|absent|respuesta automática|respuesta automatica|"
    r"fuera de la oficina|abwesenheitsnotiz|automatische antwort|thank you for contacting|thank you for your (?:e-?mail|message)|"
    r"accusé de réception|acuse de recibo|we have received your|(?:confirmation|acknowledge?ment) of receipt|receipt confirmation|"
    r"acuse (?:automático|de recepción)|confirmation de réception)", re.IGNORECASE)
_AUTO_BODY = re.compile(
    r"\bI (?:am|'m|will be) (?:currently )?(?:out of (?:the )?office|on (?:annual |parental |sick |maternity )?leave|away from)|"
    r"\bout of (?:the )?office (?:from|until|till)\b|\baway from (?:the|my) office\b|"
    r"\bautomated (?:response|reply|message)\b|\bautomatic (?:reply|response|acknowledg)|\bthis is an auto|"
    r"\bwill (?:respond|reply|get back to you) .{0,40}(?:upon|when I|on my) return|\blimited access to (?:e-?mail|my e-?mail)|"
    r"\bno access to e-?mail\b|\bwill not be forwarded\b|\bje suis absente?\b|\babsente? du bureau\b|\ben congé\b|"
    r"\bde retour le\b|\bfuera de la oficina\b|\bme encuentro fuera\b|\bde vacaciones\b|\bacceso limitado al correo\b|"
    r"\bmensaje automático\b|\bmessage automatique\b|\bthank you for contacting\b|\bwe have received your (?:message|e-?mail)\b|"
    r"\bthis (?:message|e-?mail|notification) (?:was|has been|is) (?:automatically )?(?:generated|sent automatically)\b|"
    r"\b(?:ceci est une|this is an) (?:réponse|automatic) (?:automatique|reply|response)\b|\besta es una respuesta automática\b|"
    r"\b(?:message|courriel|e-?mail) (?:généré|envoyé) automatiquement\b|\b(?:mensaje|correo) (?:generado|enviado) automáticamente\b|"
    r"\b(?:please )?do not (?:reply|respond)(?: directly)? to this (?:address|message|e-?mail)\b|"
    r"\bno (?:conteste|responda)(?: directamente)? a est[ae] (?:dirección|mensaje|correo)\b|"
    r"\bmerci de ne pas répondre à (?:cette adresse|ce (?:message|courriel))\b|"
    r"\b(?:me encuentro|estoy) de (?:licencia|permiso|baja)\b|\bI am on (?:\w+ )?leave\b|\bje suis en (?:congé|formation)\b|"
    r"\bmailbox is not (?:monitored|checked|read)\b|\bno longer (?:monitored|in use)\b|\bdo not reply to this (?:message|e-?mail)\b|"
    r"\bboîte (?:aux lettres )?n['’]est pas (?:consultée|surveillée)\b|\bne pas répondre à ce message\b|"
    r"\bbuzón no (?:es|está) (?:monitoreado|supervisado)\b|\bno responda a este (?:mensaje|correo)\b|"
    # travelling / on mission / back on: the usual out-of-office wording in the three languages
    r"\bI (?:am|'m|will be) (?:currently )?(?:travell?ing|on mission|on holiday|on vacation)\b.{0,80}"
    r"(?:e-?mail|return|back)|\b(?:upon|on) my return\b|\bI will be back (?:on|in the office)\b|"
    r"\bje suis (?:actuellement )?(?:en mission|en déplacement|en vacances)\b|\bà mon retour\b|"
    r"\bestoy (?:de viaje|en misión|de vacaciones)\b|\bestaré (?:de regreso|fuera)\b|\ba mi regreso\b",
    re.IGNORECASE)
_CANCEL = re.compile(
    r"\bcancel(?:l?ed|l?ing)? (?:our|the|all|my|MAG[’']s|\w+[’']s)? ?(?:\w+ )?(?:registrations?|participation)|"
    r"\bwithdraw (?:our|the|my)(?: [\w-]+)? (?:registration|participation|delegation)|\bannuler (?:sa|leur) participation\b|\bwill not be represented\b|\bnot be able to participate\b|"
    r"\bwon[’']t be able to send anyone\b|\bunable to attend\b.{0,40}\b(?:organi[sz]ation|we)\b|"
    r"\bannuler (?:notre|l['’]|nos|mon|ma) ?inscriptions?|\bne sera pas représentée?\b|\bne pourr(?:a|ons) pas participer\b|"
    r"\bcancelar (?:nuestra|la|nuestras|mi) (?:inscripci[oó]n|participaci[oó]n|inscripciones)|\bno estar[áa] representad[oa]\b|"
    r"\bno podr(?:á|emos) participar\b|\bwill not be able to participate\b|\bcancel (?:all|our) registrations?\b|"
    r"\bplease cancel\b|\bveuillez annuler\b|\bpor favor cancel|\bwithdraw from the\b|"
    r"\bremove (?:our|the) (?:whole |entire )?(?:delegation|registration)|\bse retirer de\b|\bretirer notre délégation\b|"
    r"\bretirarnos de\b|\bretirar (?:a )?nuestra delegación\b|\banular (?:nuestra|la|mi) (?:inscripci[oó]n|participaci[oó]n)\b|"
    r"\bno podr(?:á|emos|án) asistir\b|"
    # the organisation as a whole does not come: en/fr/es
    r"\b(?:we|[A-Z]{2,}[\w-]*) (?:will|shall) not (?:be )?(?:attend(?:ing)?|participat(?:e|ing)|send(?:ing)? (?:anyone|a delegation))\b|"
    r"\bnot be (?:attending|participating) (?:the|this)\b|\bpull(?:ing)? out of\b|\bannul(?:er|ons) (?:notre|la) participation\b|"
    r"\bnous (?:ne pourrons pas|devons renoncer)\b|\bnous désist|\bdésistement\b|\bannulation de (?:notre|l['’])\b|"
    r"\bno (?:podremos|vamos a poder) (?:asistir|participar|estar presentes)\b|"
    r"\bdecline (?:it|the|your|this)(?: kind)?(?: invitation)?\b|\b(?:must|have to|regret(?:fully)?|will have to|need to) decline\b|"
    r"\bdéclin(?:er|ons) (?:l['’]|votre|cette|aimablement) ?invitation\b|\bdeclin(?:ar|amos) (?:la|su|esta) (?:amable )?invitación\b|"
    r"\bdesist(?:e|imos|ir|iremos)\b|\brenunci(?:a|amos|ar) a (?:su|nuestra|la) participación\b|"
    r"\brenon(?:cer|çons|ce) à (?:sa|notre|leur|la) participation\b|\bforgo (?:our|its|the) participation\b|"
    r"\bsit (?:this|it) (?:one )?out\b|\bgive (?:it|this one|this year|the meeting) a miss\b|\bskip (?:this year|the meeting|this one)\b|"
    r"\b(?:participation|registration|inscription|participación|inscripción)\b[^.]{0,40}\b(?:is|has been|est|a été|ha sido|queda) "
    r"(?:cancel+ed|withdrawn|annulée?|cancelad[oa]|anulad[oa])\b|"
    r"\bno (?:contaremos|tendremos) con (?:representación|representantes|delegación)\b|\bno (?:habrá|tendremos) representación\b|"
    r"\bnous n['’]aurons pas de (?:représentant|délégation)|\bil n['’]y aura pas de (?:représentant|délégation)|"
    r"\bwe will not have (?:a |any )?(?:representative|representation|delegation)\b|"
    r"\bthere will be no (?:representative|representation|delegation)\b|"
    r"\bwithdraw(?:ing|n)? from the\b|\bwe(?:['’]re| are) withdrawing\b|"
    r"\bannuler (?:notre|sa|leur) (?:venue|participation|présence|déplacement)\b|"
    r"\bcancelar (?:nuestra|su) (?:asistencia|presencia|participación|viaje)\b|\bcancel (?:our|its) (?:attendance|trip|presence)\b|"
    r"\btake us off\b|\bremove us from\b|\bretirez-nous\b|\bnous retirer de la liste\b|\bdarnos de baja\b|"
    r"\bdecided not to (?:send|attend|participate|travel|take part)\b|\bdécidé de ne pas (?:envoyer|participer|assister)\b|"
    r"\bdecidido no (?:enviar|asistir|participar|viajar)\b|\bretirar (?:nuestra|la) (?:inscripci[oó]n|participaci[oó]n)\b",
    re.IGNORECASE)
_CORRECT = re.compile(
    r"\breplace\b|\breplaced\b|\bchanges?\b (?:to|in)\b|\bfollowing (?:two |three )?changes\b|\bcorrect(?:ion|ed)?\b|"
    r"\bmisspel|\bmisspelt\b|\bspel(?:led|t)\b|\berrors?\b (?:crept|in (?:my|our))|"
    r"\bmodifications?\b|\bremplac|\bcorriger\b|\berreur\b|\bcorregir\b|\bun error\b|\breemplaz|\bsustitu|"
    r"\bupdate (?:to|of) (?:our|the) (?:delegation|registration)|\bno longer (?:be )?able to attend\b|"
    r"\b(?:will )?no longer attend\b|\brest of (?:the|our) (?:\w+ )?delegation\b|\breste de (?:la|notre) délégation\b|"
    r"\bresto de (?:la|nuestra) delegación\b|\bchange the (?:e-?mail|address|title|function|name|spelling)\b|"
    r"\bnothing else changes\b|\bmodifier (?:l['’]adresse|la fonction|le nom|le titre)\b|"
    r"\bcambiar (?:el correo|la dirección|el cargo|el nombre)\b|\bshould read\b|\bdevrait se lire\b|\bdebe decir\b|\bdebe leerse\b|"
    r"\b(?:a )?(?:mistake|typo) in (?:my|our|the)\b|\b(?:typo|mistake|misprint)s? in\b|\bfaute de frappe\b|"
    r"\berror (?:de )?(?:tipeo|tipográfico|de escritura)\b|\bshould be\b[^.;\n]{1,80}?,? (?:and )?not\b|"
    r"\bamend(?:ment)? (?:to|of) (?:our|the|my)\b|\binstead of\b|"
    r"\bau lieu de\b|\bà la place de\b|\bcoquille\b|\ben lugar de\b|\ben vez de\b|\berrata\b|"
    r"\b(?:address|e-?mail|title|function|name|position|adresse|fonction|nom|titre|correo|dirección|cargo|nombre)\b"
    r"[^.;]{0,40}?\b(?:has changed|changed to|is now|a changé|est désormais|ha cambiado|es ahora)\b|"
    r"\bmy (?:title|function|name|e-?mail|address|position)\b.{0,20}\b(?:should be|should read|is now|has changed)\b|"
    r"\b(?:ma|mon) (?:fonction|titre|nom|adresse)\b.{0,20}\b(?:devrait être|est désormais)\b|"
    r"\bmi (?:cargo|nombre|correo|dirección)\b.{0,20}\b(?:debe ser|es ahora)\b|"
    r"\bdisregard (?:our|the|my) (?:earlier|previous|first)\b|\breplaces? (?:all )?(?:the |our )?(?:earlier|previous)\b|"
    r"\bannule et remplace\b|\bremplace (?:toutes )?(?:les|nos) (?:précédente|listes)|\bsustituye a\b|\breemplaza (?:a )?(?:la|nuestra) (?:anterior|lista)|"
    r"\b(?:she|he|elle|il|ella|él)\b[^.;]{0,50}\b(?:is now|est (?:désormais|maintenant)|es ahora|has been promoted|"
    r"was promoted|a été promue?|fue ascendid[oa]|ha sido ascendid[oa])\b|\b(?:par erreur|por error|by mistake|in error)\b|"
    r"\b(?:title|function|position|titre|fonction|cargo|función) (?:exact|correct|correcte|exacto|correcto|right)\b|"
    r"\bupdate\b[^.]{0,40}\bdetails\b|\bin lieu of\b|\ben lieu et place de\b|"
    r"\bactualizar (?:el|la) (?:cargo|correo|nombre|dirección)\b|\bupdate (?:the|his|her|their) (?:title|role|position|e-?mail|address)\b|"
    r"\bmettre à jour (?:la fonction|le titre|l['’]adresse)\b|\bmettre à jour les (?:coordonnées|informations)\b|"
    r"\bmy new (?:e-?mail|address|title)\b|\b(?:the|his|her|their|la|sa|su|leur) (?:new|nouvelle|nueva) (?:e-?mail|address|title|role|position|"
    r"adresse|fonction|dirección|correo)\b|\bnouveau (?:courriel|titre)\b|\bnuevo (?:correo|cargo)\b|"
    r"\b(?:swap|switch|échanger|intercambiar)\b[^.\n]{1,80}?\b(?:for|with|par|contre|por)\b|\bmon nouveau (?:courriel|titre)\b|\bma nouvelle (?:adresse|fonction)\b|"
    r"\bmi nuev[oa] (?:correo|dirección|cargo)\b|\bthe (?:right|correct) one\b|\bla bonne (?:adresse)?\b|\bel correcto\b|\bla correcta\b|\bcorrect (?:address|e-?mail) is\b|"
    r"\ben su lugar\b|\bà sa place\b|\bin (?:his|her|their) place\b|\bin place of\b|\binstead\b|\bplutôt que\b|\brather than\b|"
    r"\bactualizar (?:los datos|la lista|nuestra)\b|\bmettre à jour (?:la liste|notre)\b|"
    # "please use x@y for her from now on": a new address for someone registered
    r"\b(?:use|utilise[rz]?|usar|usen|utilic(?:e|en))\b[^;\n]{0,40}@[^;\n]{0,60}?\b(?:from now on|désormais|dorénavant|"
    r"à l['’]avenir|en adelante|en lo sucesivo)\b",
    re.IGNORECASE)
_QUESTION = re.compile(
    r"\?|\bcould you (?:please )?(?:advise|tell|let (?:me|us) know|confirm whether|clarify)\b|"
    r"\b(?:I|we) (?:would like|wish|want|need) to know\b|\bplease let (?:me|us) know (?:if|whether)\b|"
    r"\b(?:quisiera|quisiéramos|me gustaría|nos gustaría|deseamos|desearíamos|queremos|queríamos) saber\b|"
    r"\b(?:je|nous|j['’])\s?(?:voudrais|voudrions|souhaite|souhaitons|souhaiterais|souhaiterions|aimerais|aimerions) (?:savoir|conna[iî]tre)\b|"
    r"\b(?:we|I) (?:would like|wish|want) to (?:learn|find out)\b|\b(?:quisiera|quisiéramos|me gustaría|nos gustaría) conocer\b|"
    r"\bmerci de (?:nous|me) (?:dire|indiquer|préciser|faire savoir)\b|\b(?:les|le) agradecer(?:ía|íamos|emos|é) (?:nos |me )?"
    r"(?:indic|inform|confirm|aclar|precis)\w*|\bnous vous serions (?:très )?reconnaissants? de (?:bien vouloir )?(?:nous )?"
    r"(?:indiquer|confirmer|préciser|faire savoir|dire)\b|\b(?:we|I) would be grateful if you could (?:let (?:us|me) know|confirm|"
    r"advise|tell|clarify)\b|"
    r"\bpourriez-vous (?:nous |me )?(?:dire|indiquer|confirmer|préciser)\b|\bpodrían (?:indicarnos|decirnos|confirmarnos|informarnos)\b|"
    r"\bquestions?\b|\bwe would like to ask\b|\bnous aurions\b|\bconsultas?\b|\bpregunta", re.IGNORECASE)
_SAME_AS_BEFORE = re.compile(
    r"\bsame (?:two |three )?(?:colleagues|people|persons|delegation|representatives|participants)\b|"
    r"\bsame as (?:last|the previous) (?:year|meeting|time)\b|\bmêmes? (?:personnes|représentants|participants)\b|"
    r"\blas mismas personas\b|\blos mismos (?:representantes|participantes)\b", re.IGNORECASE)
_REGISTRATION_CUE = re.compile(
    r"\bregist|\brepresented by\b|\bwill attend\b|\bdelegation\b|\binscri|\breprésentée? par\b|\bdélégation\b|"
    r"\brepresentad[oa] por\b|\bdelegación\b|\bparticipants?\b|\bparticipantes\b|\bplease find attached the\b", re.IGNORECASE)
# Words of any meeting's business; the meeting's own words (its names, treaty, venue) come from its profile.
_MEETING = re.compile(
    r"\bmeeting\b|convention|regist|inscri|side[- ]event|visa|interpretation|"
    r"delegation|assemblée|réunion|reunión|inscripci|inscription|statement|déclaration|"
    r"declaración|accredit|acredit|accrédit|badge|accessib|observ|invit|particip|interpr[eé]t|evento paralelo|"
    r"événement parallèle|list of participants|liste des participants|lista de participantes|délégation|delegaci|"
    r"credencial|\bsession\b|\bopening\b|séance|sesión|plenary|plénière|plenaria|general debate|débat général|"
    r"debate general|\bvenue\b|\breception\b|réception|recepción|dress code|tenue vestimentaire|"
    r"código de vestimenta",
    re.IGNORECASE)
_ACTION_REQUEST = re.compile(
    r"\b(?:post|publish|upload|circulate|distribute|print)\b[^.?!]{0,40}\b(?:statement|document|paper|report|it|them)\b|"
    r"\b(?:statement|document)\b[^.?!]{0,60}\b(?:posted|published|uploaded|circulated|distributed)\b|"
    r"\b(?:publier|mettre en ligne|diffuser)\b|\b(?:publicar|difundir|subir)\b[^.?!]{0,40}\b(?:declaración|documento)\b",
    re.IGNORECASE)
_REQUEST = re.compile(r"\bplease\b|\bwe would be grateful\b|\bcould you\b|\bwould you\b|\bkindly\b|\bmerci de\b|"
                      r"\bje vous prie\b|\bpor favor\b|\bles agradecer", re.IGNORECASE)
_SPAM = re.compile(
    r"\bquota\b|\bverify your (?:account|mailbox|identity)\b|\bpassword\b|\bclick (?:here|below|the link)\b|"
    r"\bre-?validate\b|\bmailbox (?:will be|has been) (?:suspended|deactivated|closed)\b|\bhotel(?:ière)?s?\b|"
    r"\bréservation\b|\breservation\b|\btarifs? (?:préférentiels?|spéciaux)\b|\bspecial rates?\b|\bbooking\b|"
    r"\bcarte (?:de crédit|bancaire)\b|\bcredit card\b|\bwire transfer\b|\bvirement\b|\bpayment\b|\bpaiement\b|"
    r"\blottery\b|\bwinner\b|\bofficial (?:housing|travel) (?:agency|partner)\b|\bagence officielle\b|"
    r"\bchambres?\b|\blimited (?:availability|rooms)\b|\bdisponibilité limitée\b|\bact now\b|\burgent(?:e)? action\b|"
    r"\baction required\b|\bmailbox\b|\d+\s?% off\b|\bdiscount\b|\blast chance\b|\b(?:buy|order|shop) now\b|"
    r"\bspecial offer\b|\blimited time\b|\bunsubscribe\b|\bpromo(?:tion)?\b|\bdésabonner\b|\bdarse de baja\b", re.IGNORECASE)


# Structural signs of mail written by a machine or left behind by an absent person, in en/fr/es. One alone
# proves little (a person may write "until 25 August"); two kinds together in a short text are an automatic answer.
_AUTO_SIGNS: tuple[re.Pattern[str], ...] = (
    # an absence with an end date: "until 25 August", "jusqu'au 25 août inclus", "hasta el 25 de agosto"
    re.compile(r"\b(?:until|till|through|back on|returning on|jusqu['’](?:au|à)|de retour le|hasta(?: el)?|"
               r"regres(?:o|aré) el|back|de retour|de regreso|de vuelta|as of|à compter du|à partir du|a partir del?)\b[^.\n]{0,25}?\b\d{1,2}\b|"
               r"\buntil (?:the )?(?:end|beginning|middle) of\b|\bjusqu['’]à (?:la )?(?:fin|mi-)|\bhasta (?:el )?(?:fin(?:al)?|mediados) de\b",
               re.IGNORECASE),
    # the writer is away now: on sabbatical, at a conference, "during my absence"
    re.compile(r"\bon (?:sabbatical|home leave|medical leave|study leave)\b|\ben congé (?:sabbatique|maladie)\b|"
               r"\ben (?:año sabático|comisión de servicio)\b|\b(?:during|in) my absence\b|\bpendant mon absence\b|"
               r"\ben mon absence\b|\bdurante mi ausencia\b|\ben mi ausencia\b|"
               r"\bI(?: am|'m) (?:currently )?(?:attending|at|away at|participating in) (?:a|an|the) (?:\w+ )?(?:conference|workshop|"
               r"meeting|training|retreat|summit|course|seminar)\b|\bje (?:participe|suis) (?:actuellement )?(?:à|en) (?:une |un )?"
               r"(?:conférence|réunion|formation|séminaire|atelier)\b|\b(?:estoy|me encuentro) (?:participando en|asistiendo a|en) "
               r"(?:una |un )?(?:conferencia|reunión|capacitación|seminario|taller)\b", re.IGNORECASE),
    # someone else to write to
    re.compile(r"\b(?:for (?:any )?urgent|in (?:case of )?(?:an )?urgen|urgent (?:matters|requests|enquiries)|"
               r"(?:please )?(?:contact|write to|get in touch with) my colleague|please reach out to|"
               r"(?:favor de|sírvase|le ruego) (?:escribir|contactar|dirigirse)|if (?:your|the) (?:matter|request|query|enquiry) is urgent|"
               r"si (?:votre demande est|c['’]est) urgente?|si (?:su consulta|el asunto) es urgente|please (?:write|send your (?:message|e-?mail)) to|"
               r"pour toute urgence|en cas d['’]urgence|(?:merci de|veuillez) (?:contacter|vous adresser à|écrire à)|"
               r"para (?:asuntos |cualquier asunto )?urgen|en caso de urgencia|(?:contacte|escriba|diríjase) a|"
               r"dirigir (?:sus|su|las) (?:consultas|mensajes|correos|solicitudes)|has been forwarded to the (?:relevant|appropriate|competent)|"
               r"a été transmise? (?:au|à l['’])|ha sido (?:remitid|transmitid|reenviad)[oa] a)\b",
               re.IGNORECASE),
    # the mail is not being read
    re.compile(r"\b(?:limited|no|restricted|intermittent|occasional) access to (?:my )?e-?mails?\b|"
               r"\b(?:messages|e-?mails|mail) (?:sent )?to (?:it|this (?:address|mailbox|account)) (?:are|is|will) not (?:be )?"
               r"(?:read|forwarded|monitored|answered)\b|\bthis (?:e-?mail )?(?:address|account|mailbox) (?:will be|has been|is being) "
               r"(?:closed|deactivated|disabled|deleted)\b|\bI (?:have )?left (?:the|[A-Z])[^.\n]{0,40}\bon\b|"
               r"\bno longer (?:with|works? (?:for|at)|employed)\b|"
               r"\b(?:reply|replying|respond|responding|read|reading|check|checking|answer|answering) (?:to )?(?:my )?e-?mails? "
               r"(?:only )?(?:intermittently|occasionally|sporadically|with (?:some )?delay)\b|"
               r"\b(?:patchy|limited|intermittent|poor|unreliable|no) (?:connectivity|connection|internet|network)\b|"
               r"\b(?:expect|anticipate) (?:a |some )?(?:delay(?:ed|s)?|slow(?:er)?)(?: in)? (?:response|reply|replies|responses)\b|"
               r"\b(?:réponse|réponses) (?:tardive|différée)s?\b|\brespuestas? (?:tardías?|demoradas?)\b|"
               r"\b(?:vous )?répondrai (?:dès que possible|à mon retour)\b|\bresponderé (?:lo antes posible|a mi regreso|a la brevedad)\b|"
               r"\bwill (?:reply|respond|get back to you) (?:as soon as possible|asap|on my return)\b|"
               r"\b(?:has not been|will not be|is not being) forwarded\b|\bn['’]a pas été (?:transmis|transféré)\b|"
               r"\bno (?:ha sido|será) reenviado\b|\bsin (?:conexión|acceso a internet|cobertura)\b|\bsans (?:connexion|accès à internet|réseau)\b|"
               r"\bwithout (?:internet|connection|connectivity|e-?mail access)\b|"
               r"\b(?:will be|sera|será) (?:read|lu|leído|answered|traité|respondido) (?:after|upon|à partir|a partir|dès|on my)\b|"
               r"\baccès (?:très |fort )?(?:limité|restreint|réduit) à (?:ma messagerie|mes (?:courriels|e-?mails|messages))|"
               r"\bpas (?:d['’])?accès à (?:ma messagerie|mes courriels)|\bne (?:consulte|lis) pas (?:mes|ma)\b|"
               r"\bacceso (?:muy )?(?:limitado|restringido) a(?:l)? (?:mi )?correo|\bsin acceso a(?:l)? (?:mi )?correo|"
               r"\bya no (?:trabajo|trabaja|laboro|labora|colaboro) (?:en|para|con)\b|\bsin acceso (?:regular |habitual )?a(?:l)? (?:mi )?correo\b|\bne fait plus partie\b|\bn['’]est plus (?:en poste|employée?)\b",
               re.IGNORECASE),
    # an acknowledgement by a system
    re.compile(r"\byour (?:request|message|e-?mail|enquiry|inquiry|ticket) has been (?:received|logged|registered)\b|"
               r"\A\s*(?:thank you for your (?:e-?mail|message)|gracias por su (?:mensaje|correo)|merci (?:pour|de) votre "
               r"(?:message|courriel))\b|\bconfirm(?:s|ing)? (?:the )?receipt\b|\bconfirmation of receipt\b|"
               r"\bhemos recibido su (?:correo|mensaje)\b|\bnous avons (?:bien )?reçu votre (?:message|courriel)\b|"
               r"\breference(?: number)?\s*[:#]\s*[A-Z0-9/-]*\d|"
               r"\b(?:sera|seront) traitée?s? dans les meilleurs délais\b|\bserá (?:atendid|respondid|tramitad)[oa] "
               r"(?:a la brevedad|lo antes posible|en breve)\b|\bwill be (?:dealt with|processed|handled|answered|responded to) "
               r"(?:as soon as possible|shortly|in due course)\b|"
               r"\bticket (?:number|no\.?|#|id)|\b(?:respond|reply|answer|get back to you) within (?:\w+ ){0,2}"
               r"(?:working |business )?(?:days?|hours?)\b|\bvotre (?:message|demande|courriel) a (?:bien )?été (?:reçue?|enregistrée?)\b|"
               r"\bnuméro de (?:ticket|dossier)\b|\bsu (?:mensaje|solicitud|correo) ha sido (?:recibid[oa]|registrad[oa])\b|"
               r"\bnúmero de (?:ticket|caso|solicitud)\b|\bthe person you are trying to (?:reach|contact)\b|"
               r"\bla personne que vous (?:essayez|tentez|cherchez) (?:de|à) (?:joindre|contacter)\b|"
               r"\bla persona (?:que|a quien) (?:intenta|trata de|desea) contactar\b", re.IGNORECASE),
)
_GENERIC_SENDER = re.compile(r"^(?:[a-z]{2,4}[-_.])?(?:notices?|support|helpdesk|help|servicedesk|service|notifications?|notificaciones|notify|alerts?|"
                             r"system|tickets?|autorespond\w*|auto-?reply|robot|bot|registry|records|dms|no-?reply|"
                             r"do-?not-?reply|ne-?pas-?repondre|automated|mailer)[@+.-]", re.IGNORECASE)
_TICKET_SUBJECT = re.compile(r"\[(?:ticket|case|request|req|incident|demande|caso|solicitud)\s*(?:#|no\.?|n°)?\s*[\w-]*\d+\]",
                             re.IGNORECASE)
# A person asking for something to be done with people or a registration: never an automatic answer.
_HUMAN_REQUEST = re.compile(r"\bplease (?:register|add|find|note that (?:Mr|Ms|Dr|Mrs)|include)\b|\bwill attend\b|"
                            r"\bveuillez (?:inscrire|ajouter|trouver)\b|\bpor favor,? (?:inscrib|registr|añad|agreg)|"
                            r"\b(?:we are|nous sommes|nos complace) (?:pleased|heureux|ravis)\b", re.IGNORECASE)


def automatic_signs(subject: str, body: str, sender: str | None = None) -> int:
    """How many kinds of structural sign of an automatic answer ``body`` carries (see ``_AUTO_SIGNS``)."""
    kinds = sum(1 for pattern in _AUTO_SIGNS if pattern.search(body))
    if sender and _GENERIC_SENDER.match(sender):
        kinds += 1
    if _TICKET_SUBJECT.search(subject or ""):
        kinds += 1
    return kinds


def is_auto_reply(subject: str, body: str, sender: str | None = None) -> bool:
    """Out-of-office replies and automatic acknowledgements without any header saying so."""
    if _AUTO_SUBJECT.match(subject or ""):
        return True
    if len(body) >= 1500:
        return False
    if _AUTO_BODY.search(body):
        return True
    return automatic_signs(subject, body, sender) >= 2 and not _HUMAN_REQUEST.search(body)


# Newsletter footers: bulk mail sent without List-* headers. Two of them make a message bulk.
_BULK_FOOTER = re.compile(
    r"\bview (?:this|the|our) (?:e-?mail|newsletter|message|issue) (?:in|on) (?:your|a|the) (?:web )?browser\b|"
    r"\byou (?:are )?receiv(?:e|ed|ing) this (?:e-?mail|message|newsletter)\b|\bupdate (?:your )?(?:subscription |e-?mail )?"
    r"preferences\b|\bstop receiving (?:these|our|this)\b|\bmanage (?:your )?subscription\b|\bunsubscribe\b|"
    r"\b(?:afficher|voir|consulter) (?:ce|le|cet) (?:message|courriel|e-?mail|bulletin) dans (?:votre|le|un) navigateur\b|"
    r"\bvous recevez ce (?:message|courriel|e-?mail|bulletin)\b|\b(?:vous )?désabonner\b|\bdésinscri\w*\b|"
    r"\bver (?:este|el) (?:correo|mensaje|boletín) en (?:su|tu|el|un) navegador\b|\brecib(?:e|es|ió) este (?:correo|mensaje|boletín)\b|"
    r"\bdarse de baja\b|\bcancelar (?:la|su|tu) suscripci[oó]n\b", re.IGNORECASE)


def is_bulk_mail(body: str) -> bool:
    """A newsletter or mass mailing recognised by its footer (two distinct cues)."""
    return len({m.group(0).lower() for m in _BULK_FOOTER.finditer(body)}) >= 2


@lru_cache(maxsize=16)
def _organizer_mention(organizer_words: tuple[str, ...]) -> re.Pattern[str]:
    """The UN, or the secretariat's own name ("unog" of ccm@unog.ch): phishing mail borrows them."""
    return re.compile("|".join([*(re.escape(w) for w in organizer_words), r"united nations|nations unies"]),
                      re.IGNORECASE)


def spam_score(subject: str, body: str, known_sender: bool, meeting: MeetingProfile = NO_MEETING) -> int:
    """Number of spam/phishing cues; mail from a known organisation's domain is trusted more."""
    hits = len({m.group(0).lower() for m in _SPAM.finditer(subject + "\n" + body)})
    if _organizer_mention(meeting.organizer_words).search(subject + body[:300]) and not known_sender:
        hits += 1
    return hits if not known_sender else hits - 3


_STILL_ATTENDS = re.compile(
    r"\bI will (?:still )?attend\b|\bwill still attend\b|\battend alone\b|\brest of (?:the|our)\b|\bremaining\b|"
    r"\ble reste de\b|\bj['’]assisterai\b|\bel resto de\b|\basistiré\b|\bremains? registered\b|\breste inscrite?\b|"
    r"\bsigue inscrit[oa]\b|\b(?:the )?other (?:\w+ )?(?:names?|people|persons|delegates|colleagues|members|participants)\b "
    r"(?:stands?|remain|will)\b|\bles autres (?:\w+ )?(?:noms|personnes|délégués|membres|participante?s)\b.{0,20}\b(?:restent|demeurent|sont maintenus)\b|"
    r"\b(?:los|las) (?:demás|otr[oa]s) (?:\w+ )?(?:nombres|personas|delegad[oa]s|miembros)\b.{0,20}\b(?:se mantienen|siguen)\b",
    re.IGNORECASE)


def classify_intent(*, signals: HeaderSignals, subject: str, body: str, n_people: int, n_withdrawn: int,
                    known_sender: bool, has_attachment: bool, sender: str | None = None,
                    meeting: MeetingProfile = NO_MEETING) -> tuple[str, set[str]]:
    """The intent and the cues seen (``"spam"``, ``"bulk"``, ``"same_as_before"``, ``"action_requested"``).

    ``meeting`` gives the words that mark a message as being about the meeting (a question about it).
    """
    cues: set[str] = set()
    if signals.bounce:
        return "bounce", cues
    if signals.auto_submitted:
        return "auto_reply", cues
    if signals.bulk:
        return "other", cues
    if is_auto_reply(subject, body, sender) and n_people == 0:
        return "auto_reply", cues
    if is_bulk_mail(body) and n_people == 0:
        cues.add("bulk")  # a newsletter without list headers: never answered
        return "other", cues
    if spam_score(subject, body, known_sender, meeting) >= 3 and n_people == 0:
        cues.add("spam")
        return "other", cues
    text = body
    if n_withdrawn and _STILL_ATTENDS.search(text):
        return "correction", cues  # someone withdrawn, the organisation still comes
    if n_people == 0 and (_CANCEL.search(text) or (organisation_declines(text) and not _CORRECT.search(text))):
        return "cancellation", cues
    if (_CORRECT.search(text) and (n_people or n_withdrawn)) or (n_people and n_withdrawn):
        return "correction", cues  # someone added and someone withdrawn: the earlier list changes
    if n_people:
        return "registration", cues
    if _SAME_AS_BEFORE.search(text) and _REGISTRATION_CUE.search(text):
        cues.add("same_as_before")
        return "registration", cues
    about = subject + "\n" + text
    about_meeting = bool(_MEETING.search(about) or meeting.meeting_words.search(about))
    if _ACTION_REQUEST.search(text) and about_meeting:
        cues.add("action_requested")  # "please post our statement": a task for a person, not a question
        return "other", cues
    if _QUESTION.search(text) and about_meeting:
        return "question", cues
    if has_attachment and _REGISTRATION_CUE.search(text) and re.search(r"attach|ci-joint|pièce jointe|adjunt", text, re.IGNORECASE):
        return "registration", cues
    if about_meeting and _REQUEST.search(text):
        cues.add("action_requested")
    return "other", cues
