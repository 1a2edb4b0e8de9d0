"""The institution registry (机构登记): form intake."""
