"""fieldkit's tests: pytest with pytest-django, one file per endpoint or module.

One style, chosen by what a test needs:

- A test that needs the users of an area (every endpoint test: each role, and the manager of
  another area; every action that checks who may do what) is a method of a class on
  tests.base.BaseTestCase, in the unittest manner (`self.assertEqual`, `self.client`).
- Any other test is a plain pytest function with plain `assert`s: pure modules, settings,
  system checks, code lists, commands and importers (with `pytest.mark.django_db` when they
  touch the database).
- A Django test class without BaseTestCase is there only for what a function cannot do:
  rows committed for other threads or processes (TransactionTestCase), a live server
  (LiveServerTestCase), or set-up too slow to repeat for each test (setUpTestData).

XML comes from the builders in tests/xml_builders.py and tests/observation_builders.py,
which write instances with odk_forms.xform.write_instance, as the demo data does.
"""
