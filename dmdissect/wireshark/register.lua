-- Which fields are wanted -------------------------------------------------------------------
--
-- When tshark or Wireshark shows no tree (tshark printing its summary lines,
-- without -V or -O; Wireshark's packet list), an item is only of use if a display
-- filter, a tap or a column asks for its field: Wireshark then keeps it, and
-- for any other field its add returns the parent item it was to go under (a
-- "faked" item).  Each add costs more than reading a field, so such a packet
-- is dissected first with tree functions that add nothing and only note
-- whether it has a field not known to be unwanted.  If it has none, the
-- packet gets its protocol item, its expert infos and its columns, and
-- nothing else; if it has one that is wanted, the whole tree; if one not
-- seen before, the whole tree too, while each add notes whether Wireshark
-- kept its item.  What is wanted stays the same for a pass over the packets
-- in order: a new filter makes Wireshark dissect them again from the first,
-- so a frame number not above the last one seen forgets what was learnt.

local FIELD_SET = {}
for _, f in ipairs(F) do FIELD_SET[f] = true end

-- field -> true (kept: wanted), false (faked: not wanted); absent: not seen yet.
local WANTED = {}
local last_number = 0
local has_unseen, has_wanted = false, false

local function forget()
    -- The protocol item is always added, by the caller.
    WANTED = { [hvdm] = false }
end
forget()

local NOTHING_ADDED = {}

-- A subtree's own item has no field of the plugin's but Wireshark's text field
-- (_ws.lua.text), which a filter or tap may ask for like any other.
local TEXT_ITEM = "_ws.lua.text"

local function note_add(_, f)
    -- Without a range (the stand-in's tvb_range gives none) the add is a text item.
    local wanted = WANTED[f == nil and TEXT_ITEM or f]
    if wanted == nil then has_unseen = true elseif wanted then has_wanted = true end
    return NOTHING_ADDED
end

local function no_op() end
local function no_range() return nil end

local function learnt(item, parent, f)
    -- An add whose second argument is no field of ours (a range) is a text item.
    local key = FIELD_SET[f] and f or TEXT_ITEM
    if WANTED[key] == nil then
        -- A faked item is its parent: the same label.
        WANTED[key] = item.text ~= parent.text
    end
    return item
end

local FULL = build(add, add_le, tvb_range, set_text, append_text, set_generated, set_hidden,
    set_len, add_proto_expert_info, true)
local LEARN = build(
    function(parent, f, ...) return learnt(add(parent, f, ...), parent, f) end,
    function(parent, f, ...) return learnt(add_le(parent, f, ...), parent, f) end,
    tvb_range, set_text, append_text, set_generated, set_hidden, set_len, add_proto_expert_info,
    true)
local NOTE = build(note_add, note_add, no_range, no_op, no_op, no_op, no_op, no_op, no_op, false)

function hvdm.dissector(tvb, pinfo, tree)
    if tree.visible then return FULL(tvb, pinfo, tree).frame_len end
    local number = pinfo.number
    if number <= last_number then forget() end
    last_number = number
    has_unseen, has_wanted = false, false
    local m = NOTE(tvb, pinfo, tree)
    if has_wanted then return FULL(tvb, pinfo, tree).frame_len end
    if has_unseen then return LEARN(tvb, pinfo, tree).frame_len end
    local root = add(tree, hvdm, tvb_range(tvb, 0, m.frame_len))
    local finding_list = m.findings
    for finding_at = 1, #finding_list do
        local finding = finding_list[finding_at]
        add_proto_expert_info(root, expert_def(finding).e, finding.text)
    end
    return m.frame_len
end

function hvdm.init()
    forget()
    last_number = 0
end

-- registration -------------------------------------------------------------------------------

hvdm.prefs.linktype = Pref.enum("Link type", 0,
    "The LINKTYPE_USER link type (DLT 147..162) that carries Dynamic Memory messages",
    LINKTYPE_CHOICES, false)

local registered = nil

local function register()
    local table = DissectorTable.get("wtap_encap")
    if registered ~= nil then table:remove(registered, hvdm) end
    registered = wtap_encaps["USER" .. hvdm.prefs.linktype]
    table:add(registered, hvdm)
end

function hvdm.prefs_changed()
    register()
end

register()
