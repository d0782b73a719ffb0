"""English given names written alone inside Chinese text, as Hong Kong and Macau residents
write the people around them: 嗰個 Peter 成日嘈, 同Kelvin講咗, 佢老婆Winnie話. A name from the
list below with Chinese on the side it is read with (before it, or straight after it) is a
person; in English sentences the cues and titles of latin_names.py decide.

Left out of the list on purpose: given names that are also words a complaint uses (May, June,
Will, Bill, Mark, Grace, Joy, Hope, Sunny, Rose, Candy, Cherry, Crystal, Penny) and places
(Stanley, Jordan)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .matching import hinted
from .roles import in_role

Candidate = tuple[int, int, str, bool]

GIVEN_NAMES = frozenset([
    "Ada", "Adrian", "Agnes", "Alan", "Albert", "Alex", "Alice", "Alison", "Amanda", "Amy",
    "Andrew", "Andy", "Angel", "Angela", "Anita", "Ann", "Anna", "Annie", "Anthony", "Ben",
    "Benjamin", "Benny", "Betty", "Billy", "Bobby", "Brian", "Calvin", "Carmen", "Carol",
    "Catherine", "Cathy", "Cecilia", "Charles", "Charlie", "Chloe", "Chris", "Christina",
    "Christine", "Cindy", "Connie", "Daisy", "Daniel", "Danny", "David", "Dennis", "Derek",
    "Dickson", "Doris", "Dorothy", "Edmond", "Edward", "Eddie", "Edwin", "Elaine", "Eleanor",
    "Ellen", "Elsa", "Emily", "Emma", "Eric", "Esther", "Eva", "Fanny", "Fiona", "Florence",
    "Frank", "Frankie", "Gary", "George", "Gigi", "Gloria", "Gordon", "Hannah", "Harry",
    "Helen", "Henry", "Ian", "Irene", "Isaac", "Ivan", "Ivy", "Jack", "Jacky", "Jackson",
    "James", "Jane", "Janet", "Jason", "Jeff", "Jeffrey", "Jennifer", "Jenny", "Jessica",
    "Jimmy", "Joanne", "Joe", "Joey", "John", "Johnny", "Joseph", "Joyce", "Judy", "Julia",
    "Karen", "Kathy", "Kelly", "Kelvin", "Ken", "Kenneth", "Kenny", "Kevin", "Kitty", "Larry",
    "Leo", "Leon", "Lily", "Louis", "Lucy", "Maggie", "Mandy", "Marco", "Maria", "Martin",
    "Mary", "Matthew", "Michael", "Michelle", "Nancy", "Nelson", "Nick", "Oscar", "Patrick",
    "Paul", "Peggy", "Peter", "Philip", "Queenie", "Rachel", "Raymond", "Rebecca", "Richard",
    "Ricky", "Rita", "Robert", "Roger", "Ronald", "Sam", "Sammy", "Samuel", "Sandy", "Sarah",
    "Sharon", "Shirley", "Simon", "Sophia", "Stella", "Stephen", "Steven", "Susan", "Terry",
    "Thomas", "Tiffany", "Timothy", "Tom", "Tommy", "Tony", "Tracy", "Vincent", "Vivian",
    "Wendy", "William", "Wilson", "Winnie", "Yvonne", "Zoe",
])
# A capitalised word, then a look-up (an alternation of the names would be ten times slower).
_WORD = hinted(r"(?<![A-Za-z])[A-Z][a-z]{1,8}(?![A-Za-z])", "A-Z")
_CHINESE = re.compile(r"[\u3400-\u9fff]")
_NEXT_WORD_CAPITALISED = re.compile(r"[ \t]+[A-Z]")


def find_given_names(matching: str, simplified: str) -> Iterator[Candidate]:
    for found in _WORD.finditer(matching):
        if found.group() not in GIVEN_NAMES:
            continue
        start, end = found.span()
        before = matching[max(0, start - 2):start].rstrip()
        after = matching[end:end + 2].lstrip()
        if _NEXT_WORD_CAPITALISED.match(matching, end):
            continue  # Peter Chan: latin_names.py reads the whole name
        if before and before[-1].isascii() and before[-1].isalpha():
            continue  # part of an English phrase (Hello Kitty)
        if not (before and _CHINESE.match(before[-1]) or after and _CHINESE.match(after[0])):
            continue
        if not in_role(simplified, start, end):
            yield start, end, "person", True
